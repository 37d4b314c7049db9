package entry

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
)

// SigningBytes returns what an entry's signature covers: the canonical
// DAG-CBOR of the entry with sig.sig removed. The key hint stays in, so the
// signature covers it, and the ID covers the signature (PROTOCOL.md 1.2).
func SigningBytes(e *Entry) ([]byte, error) {
	return appendEntry(make([]byte, 0, encodedSizeHint(e)), e, false), nil
}

// Sign signs e in place with key. e must already carry a key hint (set with
// Builder.SigKey), since the signature covers the hint; the caller is
// responsible for the hint naming key.
func Sign(e *Entry, key PrivateKey) error {
	if e.Sig.Key.Hint.IsZero() {
		return fmt.Errorf("%w: set a key hint before signing", ErrMalformedSig)
	}
	msg, err := SigningBytes(e)
	if err != nil {
		return err
	}
	e.Sig.Sig = base64.StdEncoding.EncodeToString(key.Sign(msg))
	return nil
}

// CheckSigShape reports whether e's SigInfo is well formed in the reference's
// sense: a hint and a signature come together (unsigned means neither), a
// delegation is always signed, and a signature is base64 of 64 bytes.
func CheckSigShape(e *Entry) error {
	hinted, signed := !e.Sig.Key.Hint.IsZero(), e.Sig.Sig != ""
	switch {
	case hinted && !signed:
		return fmt.Errorf("%w: key hint without signature", ErrMalformedSig)
	case signed && !hinted:
		return fmt.Errorf("%w: signature without key hint", ErrMalformedSig)
	case e.Sig.Key.Delegated && !signed:
		return fmt.Errorf("%w: delegation without signature", ErrMalformedSig)
	case signed:
		var sig [ed25519.SignatureSize]byte
		if err := decodeSig(&sig, e.Sig.Sig); err != nil {
			return err
		}
	}
	return nil
}

// IsUnsigned reports whether e is unsigned: a Direct key with an empty hint
// and no signature.
func IsUnsigned(e *Entry) bool {
	return !e.Sig.Key.Delegated && e.Sig.Key.Hint.IsZero() && e.Sig.Sig == ""
}

// VerifySignature checks that e is well formed and that its signature was
// made by pub over SigningBytes(e). Which key is allowed to sign, and with
// which permission, is decided by the tree's auth settings, not here.
func VerifySignature(e *Entry, pub PublicKey) error {
	return VerifySignatureWith(e, pub, nil)
}

// Verifier checks one Ed25519 signature of message by pub, exactly as
// crypto/ed25519.Verify does: a faster implementation may stand in for the
// standard library only if it accepts the same signatures, no more.
type Verifier func(pub PublicKey, message, sig []byte) bool

// VerifySignatureWith is VerifySignature with verify checking the signature
// itself; nil means PublicKey.Verify (crypto/ed25519).
func VerifySignatureWith(e *Entry, pub PublicKey, verify Verifier) error {
	if err := CheckSigShape(e); err != nil {
		return err
	}
	if e.Sig.Sig == "" {
		return fmt.Errorf("%w: entry is unsigned", ErrBadSignature)
	}
	var sig [ed25519.SignatureSize]byte
	_ = decodeSig(&sig, e.Sig.Sig) // checked by CheckSigShape
	// NB: message and signature share one allocation; a signature array of
	// its own would escape to the heap through verify.
	buf := appendEntry(make([]byte, 0, encodedSizeHint(e)+len(sig)), e, false)
	msg := buf[:len(buf):len(buf)]
	buf = append(buf, sig[:]...)
	if verify == nil {
		verify = PublicKey.Verify
	}
	if pub.IsZero() || !verify(pub, msg, buf[len(msg):]) {
		return ErrBadSignature
	}
	return nil
}

// decodeSig decodes the signature text into sig: padded standard base64 of
// 64 bytes, in its one canonical form. NB: 88 characters that decode
// strictly (zero padding bits) to 64 bytes can hold no line break, which
// the decoder would skip, so they are the canonical text; this is the
// re-encode comparison it made before, without its two allocations.
func decodeSig(sig *[ed25519.SignatureSize]byte, s string) error {
	if len(s) != base64.StdEncoding.EncodedLen(ed25519.SignatureSize) {
		return fmt.Errorf("%w: signature is not padded base64 of 64 bytes", ErrMalformedSig)
	}
	var text [88]byte                       // EncodedLen(64), on the stack: []byte(s) would allocate
	var buf [ed25519.SignatureSize + 2]byte // DecodedLen(88) is 66
	n, err := base64.StdEncoding.Strict().Decode(buf[:], text[:copy(text[:], s)])
	if err != nil || n != ed25519.SignatureSize {
		return fmt.Errorf("%w: signature is not padded base64 of 64 bytes", ErrMalformedSig)
	}
	copy(sig[:], buf[:n])
	return nil
}
