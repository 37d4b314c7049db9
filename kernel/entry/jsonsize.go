package entry

import "unicode/utf8"

// JSONSize returns len(EncodeJSON(e)) without encoding: the length of e's v0
// JSON, computed field by field. A sender uses it to fill a message up to a
// byte limit cheaply. It follows EncodeJSON exactly, including its string
// escaping (encoding/json with HTML escaping off), for any Entry, valid or not.
func JSONSize(e *Entry) int {
	n := len(`{"tree":,"subtrees":[],"sig":}`)
	if e.Version != 0 {
		n += len(`"_v":,`) + uintSize(uint64(e.Version))
	}
	n += treeJSONSize(&e.Tree)
	n += commas(len(e.Stores))
	for i := range e.Stores {
		n += storeJSONSize(&e.Stores[i])
	}
	return n + sigJSONSize(&e.Sig)
}

func treeJSONSize(t *TreeNode) int {
	n := len(`{"parents":}`) + idListJSONSize(t.Parents)
	if !t.Root.IsZero() {
		n += len(`"root":,`) + idJSONSize(t.Root)
	}
	if t.Metadata != nil {
		n += len(`,"metadata":`) + bytesJSONSize(t.Metadata)
	}
	if t.Height != 0 {
		n += len(`,"h":`) + uintSize(t.Height)
	}
	return n
}

func storeJSONSize(s *StoreNode) int {
	n := len(`{"name":,"parents":}`) + stringJSONSize(s.Name) + idListJSONSize(s.Parents)
	if s.Data != nil {
		n += len(`,"data":`) + bytesJSONSize(s.Data)
	}
	if s.Height != nil {
		n += len(`,"h":`) + uintSize(*s.Height)
	}
	return n
}

func sigJSONSize(s *SigInfo) int {
	n := len(`{"key":}`)
	if s.Sig != "" {
		n += len(`"sig":,`) + stringJSONSize(s.Sig)
	}
	hint := hintJSONSize(&s.Key.Hint)
	if !s.Key.Delegated {
		return n + len(`{"Direct":{"hint":}}`) + hint
	}
	n += len(`{"Delegation":{"path":[],"hint":}}`) + hint + commas(len(s.Key.Path))
	for _, step := range s.Key.Path {
		n += len(`{"tree":,"tips":}`) + idJSONSize(step.Tree) + idListJSONSize(step.Tips)
	}
	return n
}

func hintJSONSize(h *KeyHint) int {
	n, fields := len(`{}`), 0
	if !h.PubKey.IsZero() {
		n += len(`"pubkey":`) + 2 + len(h.PubKey.String())
		fields++
	}
	if h.Name != "" {
		n += len(`"name":`) + stringJSONSize(h.Name)
		fields++
	}
	if h.Global {
		n += len(`"is_global":true`)
		fields++
	}
	return n + commas(fields)
}

// commas is the number of separators between n list items or fields.
func commas(n int) int { return max(n-1, 0) }

func idListJSONSize(ids []ID) int {
	n := len(`[]`) + commas(len(ids))
	for _, id := range ids {
		n += idJSONSize(id)
	}
	return n
}

// idJSONSize is the quoted string form: multibase 'b' plus unpadded base32.
func idJSONSize(id ID) int {
	if id.IsZero() {
		return 2
	}
	return 2 + 1 + base32Lower.EncodedLen(len(id.cid))
}

// bytesJSONSize is the integer-array form of a non-nil byte string.
func bytesJSONSize(b Bytes) int {
	n := len(`[]`) + commas(len(b))
	for _, c := range b {
		switch {
		case c < 10:
			n++
		case c < 100:
			n += 2
		default:
			n += 3
		}
	}
	return n
}

func uintSize(v uint64) int {
	n := 1
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

// stringJSONSize is the length of s quoted as encoding/json quotes it with
// HTML escaping off: \" \\ \b \f \n \r \t take two bytes, other control bytes
// six (\u00XX), each invalid UTF-8 byte six (\ufffd), U+2028 and U+2029 six.
func stringJSONSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}
