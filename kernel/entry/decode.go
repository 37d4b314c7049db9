package entry

import (
	"encoding/binary"
	"unicode/utf8"
)

// decodeFast reads the canonical encoding of an entry without reflection:
// exactly the keys, order and omissions appendEntry writes, with the checks
// the reflective path makes field by field (UTF-8 text, IDs that parse,
// keys in canonical base64, required members). It gives up (ok false) on
// anything else, and then DecodeCBOR takes the reflective path, which
// accepts or explains: so what it returns is never wrong, only sometimes
// slow. DecodeCBOR still validates what it returns and checks that it
// re-encodes to data, which is what makes an accepted entry one the
// reflective path would accept too. The reflective decoder cost a
// bootstrap about 8 us and 40 allocations per entry.
func decodeFast(data []byte) (*Entry, bool) {
	r := fastReader{data: data, ok: true}
	e := new(Entry)
	// NB: _v is omitted when 0 and Validate refuses any other value, so a
	// valid entry is a map of exactly these three keys.
	if r.mapHead() != 3 {
		return nil, false
	}
	r.key("sig")
	r.sigInfo(&e.Sig)
	r.key("tree")
	r.treeNode(&e.Tree)
	r.key("subtrees")
	n := r.arrayHead()
	if !r.ok || n > uint64(len(data)) {
		return nil, false
	}
	e.Stores = make([]StoreNode, n)
	for i := range e.Stores {
		r.storeNode(&e.Stores[i])
	}
	if !r.ok || r.pos != len(data) {
		return nil, false
	}
	return e, true
}

// fastReader reads CBOR items; the first mismatch clears ok, and every read
// after it returns a zero value.
type fastReader struct {
	data []byte
	pos  int
	ok   bool
}

// head reads an item head of the given major type.
func (r *fastReader) head(major byte) uint64 {
	if !r.ok || r.pos >= len(r.data) || r.data[r.pos]>>5 != major {
		r.ok = false
		return 0
	}
	info := r.data[r.pos] & 0x1f
	r.pos++
	if info < 24 {
		return uint64(info)
	}
	if info > 27 {
		r.ok = false
		return 0
	}
	n := 1 << (info - 24)
	if len(r.data)-r.pos < n {
		r.ok = false
		return 0
	}
	var buf [8]byte
	copy(buf[8-n:], r.data[r.pos:r.pos+n])
	r.pos += n
	return binary.BigEndian.Uint64(buf[:])
}

func (r *fastReader) mapHead() uint64   { return r.head(5) }
func (r *fastReader) arrayHead() uint64 { return r.head(4) }

// raw reads the content of a byte or text string, as a sub-slice of data.
func (r *fastReader) raw(major byte) []byte {
	n := r.head(major)
	if !r.ok || n > uint64(len(r.data)-r.pos) {
		r.ok = false
		return nil
	}
	b := r.data[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b
}

// peekKey reports whether the next item is the text string name.
func (r *fastReader) peekKey(name string) bool {
	if !r.ok {
		return false
	}
	save := r.pos
	got := r.raw(3)
	r.pos = save
	if !r.ok {
		r.ok = true // not a text string here: an error of the caller's next read
		return false
	}
	return string(got) == name
}

// key reads the map key name, which must come next.
func (r *fastReader) key(name string) {
	if string(r.raw(3)) != name {
		r.ok = false
	}
}

// optKey reads the map key name if it comes next, counting it in *left.
func (r *fastReader) optKey(name string, left *uint64) bool {
	if *left == 0 || !r.peekKey(name) {
		return false
	}
	r.key(name)
	*left--
	return true
}

// text reads a text string of valid UTF-8, as the reflective decoder
// requires; an empty one is refused (every text member omits "").
func (r *fastReader) text() string {
	b := r.raw(3)
	if len(b) == 0 || !utf8.Valid(b) {
		r.ok = false
		return ""
	}
	return string(b)
}

// bytes reads a byte string into a new slice, non-nil even when empty: a
// present member.
func (r *fastReader) bytes() Bytes {
	b := r.raw(2)
	if !r.ok {
		return nil
	}
	return append(make(Bytes, 0, len(b)), b...)
}

// id reads a tag-42 link; null (the zero ID) is left to the reflective path.
func (r *fastReader) id() ID {
	if !r.ok || len(r.data)-r.pos < 2 || r.data[r.pos] != 0xd8 || r.data[r.pos+1] != cborTagCIDNum {
		r.ok = false
		return ID{}
	}
	r.pos += 2
	b := r.raw(2)
	if !r.ok || len(b) < 2 || b[0] != 0x00 {
		r.ok = false
		return ID{}
	}
	id, err := IDFromBytes(b[1:])
	if err != nil {
		r.ok = false
	}
	return id
}

func (r *fastReader) ids() []ID {
	n := r.arrayHead()
	if !r.ok || n > uint64(len(r.data)-r.pos) {
		r.ok = false
		return nil
	}
	out := make([]ID, n)
	for i := range out {
		out[i] = r.id()
	}
	return out
}

func (r *fastReader) treeNode(t *TreeNode) {
	left := r.mapHead()
	if r.optKey("h", &left) {
		t.Height = r.head(0)
	}
	if r.optKey("root", &left) {
		t.Root = r.id()
	}
	if !r.optKey("parents", &left) {
		r.ok = false
		return
	}
	t.Parents = r.ids()
	if r.optKey("metadata", &left) {
		t.Metadata = r.bytes()
	}
	if left != 0 {
		r.ok = false
	}
}

func (r *fastReader) storeNode(s *StoreNode) {
	left := r.mapHead()
	if r.optKey("h", &left) {
		h := r.head(0)
		s.Height = &h
	}
	if r.optKey("data", &left) {
		s.Data = r.bytes()
	}
	if !r.optKey("name", &left) {
		r.ok = false
		return
	}
	s.Name = r.text()
	if !r.optKey("parents", &left) {
		r.ok = false
		return
	}
	s.Parents = r.ids()
	if left != 0 {
		r.ok = false
	}
}

func (r *fastReader) sigInfo(s *SigInfo) {
	left := r.mapHead()
	if !r.optKey("key", &left) {
		r.ok = false
		return
	}
	r.sigKey(&s.Key)
	if r.optKey("sig", &left) {
		s.Sig = r.text()
	}
	if left != 0 {
		r.ok = false
	}
}

// sigKey reads Direct{hint}; a delegation is left to the reflective path.
func (r *fastReader) sigKey(k *SigKey) {
	if r.mapHead() != 1 {
		r.ok = false
		return
	}
	r.key("Direct")
	if r.mapHead() != 1 {
		r.ok = false
		return
	}
	r.key("hint")
	h := &k.Hint
	left := r.mapHead()
	if r.optKey("name", &left) {
		h.Name = r.text()
	}
	if r.optKey("pubkey", &left) {
		pub, err := ParsePublicKey(r.text())
		if err != nil {
			r.ok = false
		}
		h.PubKey = pub
	}
	if r.optKey("is_global", &left) {
		if !r.ok || r.pos >= len(r.data) || r.data[r.pos] != 0xf5 {
			r.ok = false
			return
		}
		r.pos++
		h.Global = true
	}
	if left != 0 {
		r.ok = false
	}
}
