package entry

import "encoding/base64"

// appendEntry appends e's canonical DAG-CBOR to out, byte for byte what
// encMode.Marshal writes (TestAppendEntryMatchesReflect checks it on
// arbitrary entries), without reflection: the reflective encoder cost a
// bootstrap about 6 us and 30 allocations per entry, once to check that a
// received entry is canonical and once more for the bytes its signature
// covers. Map keys are written in DAG-CBOR's order (length first, then
// bytewise), and omitted exactly as the struct tags omit them.
// withSig false leaves sig.sig out, as SigningBytes wants.
func appendEntry(out []byte, e *Entry, withSig bool) []byte {
	n := uint64(3) // tree, subtrees, sig
	if e.Version != 0 {
		n++
	}
	out = appendHead(out, 5, n)
	if e.Version != 0 {
		out = appendHead(appendText(out, "_v"), 0, uint64(e.Version))
	}
	out = appendSigInfo(appendText(out, "sig"), &e.Sig, withSig)
	out = appendTreeNode(appendText(out, "tree"), &e.Tree)
	out = appendText(out, "subtrees")
	out = appendHead(out, 4, uint64(len(e.Stores)))
	for i := range e.Stores {
		out = appendStoreNode(out, &e.Stores[i])
	}
	return out
}

func appendTreeNode(out []byte, t *TreeNode) []byte {
	n := uint64(1) // parents
	if t.Height != 0 {
		n++
	}
	if !t.Root.IsZero() {
		n++
	}
	if t.Metadata != nil {
		n++
	}
	out = appendHead(out, 5, n)
	if t.Height != 0 {
		out = appendHead(appendText(out, "h"), 0, t.Height)
	}
	if !t.Root.IsZero() {
		out = appendID(appendText(out, "root"), t.Root)
	}
	out = appendIDs(appendText(out, "parents"), t.Parents)
	if t.Metadata != nil {
		out = appendBytes(appendText(out, "metadata"), t.Metadata)
	}
	return out
}

func appendStoreNode(out []byte, s *StoreNode) []byte {
	n := uint64(2) // name, parents
	if s.Height != nil {
		n++
	}
	if s.Data != nil {
		n++
	}
	out = appendHead(out, 5, n)
	if s.Height != nil {
		out = appendHead(appendText(out, "h"), 0, *s.Height)
	}
	if s.Data != nil {
		out = appendBytes(appendText(out, "data"), s.Data)
	}
	out = appendText(appendText(out, "name"), s.Name)
	return appendIDs(appendText(out, "parents"), s.Parents)
}

func appendSigInfo(out []byte, s *SigInfo, withSig bool) []byte {
	withSig = withSig && s.Sig != ""
	n := uint64(1) // key
	if withSig {
		n++
	}
	out = appendHead(out, 5, n)
	out = appendSigKey(appendText(out, "key"), &s.Key)
	if withSig {
		out = appendText(appendText(out, "sig"), s.Sig)
	}
	return out
}

// appendSigKey writes the enum as SigKey.wire does: {"Direct":{"hint":h}} or
// {"Delegation":{"hint":h,"path":[...]}}.
func appendSigKey(out []byte, k *SigKey) []byte {
	out = appendHead(out, 5, 1)
	if !k.Delegated {
		out = appendHead(appendText(out, "Direct"), 5, 1)
		return appendKeyHint(appendText(out, "hint"), &k.Hint)
	}
	out = appendHead(appendText(out, "Delegation"), 5, 2)
	out = appendKeyHint(appendText(out, "hint"), &k.Hint)
	out = appendHead(appendText(out, "path"), 4, uint64(len(k.Path)))
	for i := range k.Path {
		step := &k.Path[i]
		out = appendHead(out, 5, 2)
		out = appendIDs(appendText(out, "tips"), step.Tips)
		out = appendID(appendText(out, "tree"), step.Tree)
	}
	return out
}

func appendKeyHint(out []byte, h *KeyHint) []byte {
	n := uint64(0)
	if h.Name != "" {
		n++
	}
	if !h.PubKey.IsZero() {
		n++
	}
	if h.Global {
		n++
	}
	out = appendHead(out, 5, n)
	if h.Name != "" {
		out = appendText(appendText(out, "name"), h.Name)
	}
	if !h.PubKey.IsZero() {
		// NB: PublicKey.String's text, without its two allocations.
		out = appendText(out, "pubkey")
		out = appendHead(out, 3, uint64(len(keyPrefix)+base64.StdEncoding.EncodedLen(len(h.PubKey))))
		out = base64.StdEncoding.AppendEncode(append(out, keyPrefix...), h.PubKey[:])
	}
	if h.Global {
		out = append(appendText(out, "is_global"), 0xf5)
	}
	return out
}

func appendIDs(out []byte, ids []ID) []byte {
	out = appendHead(out, 4, uint64(len(ids)))
	for _, id := range ids {
		out = appendID(out, id)
	}
	return out
}

// appendID writes what ID.MarshalCBOR returns: a tag-42 link, or null for
// the zero ID.
func appendID(out []byte, id ID) []byte {
	if id.IsZero() {
		return append(out, 0xf6)
	}
	out = append(out, 0xd8, cborTagCIDNum)
	out = appendHead(out, 2, uint64(1+len(id.cid)))
	out = append(out, 0x00)
	return append(out, id.cid...)
}

func appendText(out []byte, s string) []byte { return append(appendHead(out, 3, uint64(len(s))), s...) }

func appendBytes(out []byte, b []byte) []byte {
	return append(appendHead(out, 2, uint64(len(b))), b...)
}

// encodedSizeHint is about the length of e's encoding, so that one
// allocation usually holds it: what an entry carries, and 64 bytes for each
// ID and each map of keys.
func encodedSizeHint(e *Entry) int {
	n := 256 + len(e.Tree.Metadata) + 64*len(e.Tree.Parents) + len(e.Sig.Sig) + len(e.Sig.Key.Hint.Name)
	for i := range e.Stores {
		n += 64 + len(e.Stores[i].Name) + len(e.Stores[i].Data) + 64*len(e.Stores[i].Parents)
	}
	for i := range e.Sig.Key.Path {
		n += 64 + 64*len(e.Sig.Key.Path[i].Tips)
	}
	return n
}
