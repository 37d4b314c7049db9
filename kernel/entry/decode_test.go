package entry

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// checkFastAgrees: whenever the fast decoder accepts data, the reflective
// path accepts it too, as the same entry (nil and empty lists told apart).
func checkFastAgrees(t *rapid.T, data []byte) bool {
	lim := DefaultLimits()
	fast, ok := lim.decodeFast(data)
	if !ok {
		return false
	}
	slow, _, err := lim.decodeReflect(data)
	if err != nil {
		t.Fatalf("fast path accepted what the reflective one refuses (%v): %x", err, data)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast path decoded\n%#v\nreflective\n%#v", fast, slow)
	}
	return true
}

// TestDecodeFastAgrees: on the canonical encodings of arbitrary entries, and
// on mutations of them (a byte changed, inserted or dropped), the fast
// decoder accepts only what the reflective path accepts, as the same entry;
// and it accepts every valid entry but a delegation or one with a null ID.
func TestDecodeFastAgrees(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := anyEntryGen.Draw(t, "entry")
		if rapid.Bool().Draw(t, "make_valid") {
			makeValid(e)
		}
		data := appendEntry(nil, e, true)
		accepted := checkFastAgrees(t, data)
		if _, _, err := DefaultLimits().decodeReflect(data); err == nil && !accepted && !hasNull(e) && !e.Sig.Key.Delegated {
			t.Fatalf("fast path refused a valid entry: %#v", e)
		}
		for range rapid.IntRange(0, 8).Draw(t, "mutations") {
			m := bytes.Clone(data)
			if len(m) == 0 {
				break
			}
			i := rapid.IntRange(0, len(m)-1).Draw(t, "at")
			switch rapid.IntRange(0, 2).Draw(t, "how") {
			case 0:
				m[i] = rapid.Byte().Draw(t, "byte")
			case 1:
				m = append(m[:i], append([]byte{rapid.Byte().Draw(t, "byte")}, m[i:]...)...)
			default:
				m = append(m[:i], m[i+1:]...)
			}
			checkFastAgrees(t, m)
		}
	})
}

// hasNull reports whether e holds a zero ID, which encodes as null and
// which the fast decoder leaves to the reflective path.
func hasNull(e *Entry) bool {
	for _, id := range e.Tree.Parents {
		if id.IsZero() {
			return true
		}
	}
	for _, s := range e.Stores {
		for _, id := range s.Parents {
			if id.IsZero() {
				return true
			}
		}
	}
	return false
}

// makeValid mends what most often makes a drawn entry invalid, so that the
// property sees many valid ones.
func makeValid(e *Entry) {
	e.Version = 0
	e.Sig.Key.Delegated, e.Sig.Key.Path = false, nil
	if len(e.Sig.Key.Hint.Name) > 256 || !utf8.ValidString(e.Sig.Key.Hint.Name) {
		e.Sig.Key.Hint.Name = "n"
	}
	if len(e.Sig.Sig) > 88 || !utf8.ValidString(e.Sig.Sig) {
		e.Sig.Sig = ""
	}
	e.Tree.Parents = nonZero(e.Tree.Parents)
	if len(e.Tree.Parents) == 0 {
		e.Tree.Parents = []ID{IDOf([]byte("p"))}
	}
	for i := range e.Stores {
		s := &e.Stores[i]
		s.Name = fmt.Sprintf("s%d", i)
		s.Parents = nonZero(s.Parents)
	}
}

func nonZero(ids []ID) []ID {
	var out []ID
	for _, id := range ids {
		if !id.IsZero() {
			out = append(out, id)
		}
	}
	return out
}
