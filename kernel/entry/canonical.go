package entry

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// checkCanonical walks raw CBOR and refuses, with a specific error, what
// DAG-CBOR forbids and fxamacker/cbor would accept: non-minimal heads,
// indefinite lengths, map keys that are not text or not in length-first
// order, tags other than 42, floats and simple values other than
// true/false/null. It allocates nothing.
func checkCanonical(data []byte) error {
	r := cborWalker{data: data}
	if err := r.item(0); err != nil {
		return err
	}
	if r.pos != len(data) {
		return fmt.Errorf("%w: %d bytes", ErrTrailingBytes, len(data)-r.pos)
	}
	return nil
}

type cborWalker struct {
	data []byte
	pos  int
}

func (r *cborWalker) remaining() uint64 { return uint64(len(r.data) - r.pos) }

// head reads one item head and returns its major type and argument.
func (r *cborWalker) head() (major byte, arg uint64, err error) {
	if r.pos >= len(r.data) {
		return 0, 0, ErrTruncated
	}
	at := r.pos
	b := r.data[r.pos]
	r.pos++
	major, info := b>>5, b&0x1f
	switch {
	case info < 24:
		return major, uint64(info), nil
	case info <= 27:
		n := 1 << (info - 24)
		if r.remaining() < uint64(n) {
			return 0, 0, ErrTruncated
		}
		var buf [8]byte
		copy(buf[8-n:], r.data[r.pos:r.pos+n])
		r.pos += n
		arg = binary.BigEndian.Uint64(buf[:])
		if arg < minimalFloor[info-24] {
			return 0, 0, fmt.Errorf("%w: non-minimal integer or length at offset %d", ErrNonCanonical, at)
		}
		return major, arg, nil
	case info == 31:
		return 0, 0, fmt.Errorf("%w: at offset %d", ErrIndefiniteLength, at)
	default:
		return 0, 0, fmt.Errorf("%w: reserved additional info %d at offset %d", ErrMalformed, info, at)
	}
}

// minimalFloor[i] is the smallest argument that needs a 1<<i byte extension.
var minimalFloor = [4]uint64{24, 1 << 8, 1 << 16, 1 << 32}

func (r *cborWalker) item(depth int) error {
	if depth > cborDepthMax {
		return fmt.Errorf("%w: nesting deeper than %d", ErrTooLarge, cborDepthMax)
	}
	if r.pos < len(r.data) && r.data[r.pos]>>5 == 7 {
		switch r.data[r.pos] {
		case 0xf4, 0xf5, 0xf6: // false, true, null
			r.pos++
			return nil
		}
		return fmt.Errorf("%w: float or simple value 0x%02x at offset %d", ErrUnsupportedCBOR, r.data[r.pos], r.pos)
	}
	at := r.pos
	major, arg, err := r.head()
	if err != nil {
		return err
	}
	switch major {
	case 0, 1: // integers
		return nil
	case 2, 3: // byte and text strings
		if arg > r.remaining() {
			return ErrTruncated
		}
		r.pos += int(arg)
		return nil
	case 4: // array: every element takes at least one byte
		if arg > r.remaining() {
			return ErrTruncated
		}
		for range arg {
			if err := r.item(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case 5:
		return r.mapBody(arg, depth)
	default: // 6: tag
		if arg != cborTagCIDNum {
			return fmt.Errorf("%w: tag %d at offset %d", ErrUnsupportedCBOR, arg, at)
		}
		return r.item(depth + 1)
	}
}

func (r *cborWalker) mapBody(pairs uint64, depth int) error {
	if pairs > r.remaining()/2 {
		return ErrTruncated
	}
	var prev []byte
	for i := range pairs {
		at := r.pos
		major, n, err := r.head()
		if err != nil {
			return err
		}
		if major != 3 {
			return fmt.Errorf("%w: map key of major type %d at offset %d", ErrUnsupportedCBOR, major, at)
		}
		if n > r.remaining() {
			return ErrTruncated
		}
		key := r.data[r.pos : r.pos+int(n)]
		r.pos += int(n)
		if i > 0 {
			switch c := compareKeys(prev, key); {
			case c == 0:
				return fmt.Errorf("%w: duplicate map key %q", ErrNonCanonical, key)
			case c > 0:
				return fmt.Errorf("%w: map key %q out of length-first order", ErrNonCanonical, key)
			}
		}
		prev = key
		if err := r.item(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// compareKeys is DAG-CBOR map-key order: shorter first, then bytewise.
func compareKeys(a, b []byte) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return bytes.Compare(a, b)
}
