package entry

import (
	"fmt"
	"strconv"
)

// Bytes is an opaque byte string of an entry (store data, tree metadata).
// Nil is absent; a non-nil empty value is present. CBOR encodes it as a byte
// string; the v0 JSON as an array of integers 0-255, as serde does for Vec<u8>.
type Bytes []byte

func (b Bytes) clone() Bytes {
	if b == nil {
		return nil
	}
	return append(Bytes{}, b...)
}

// MarshalJSON encodes b as an array of integers, or null when absent.
func (b Bytes) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	out := make([]byte, 0, 2+4*len(b))
	out = append(out, '[')
	for i, c := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(c), 10)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON decodes an array of integers 0-255. null leaves b nil. A JSON
// string is refused (PROTOCOL.md 12.1), as are fractions, exponents, signs and
// leading zeros, which serde would not read as a u8 either.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	p := jsonScanner{data: data}
	p.space()
	if p.literal("null") {
		*b = nil
		return p.end()
	}
	if !p.byte('[') {
		return ErrBadBytes
	}
	out := make(Bytes, 0, len(data)/3)
	p.space()
	if p.byte(']') {
		*b = out
		return p.end()
	}
	for {
		p.space()
		v, ok := p.uint8()
		if !ok {
			return fmt.Errorf("%w: at offset %d", ErrBadBytes, p.pos)
		}
		out = append(out, v)
		p.space()
		if p.byte(']') {
			*b = out
			return p.end()
		}
		if !p.byte(',') {
			return fmt.Errorf("%w: at offset %d", ErrBadBytes, p.pos)
		}
	}
}

// jsonScanner reads the few JSON tokens a byte array has.
type jsonScanner struct {
	data []byte
	pos  int
}

func (p *jsonScanner) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonScanner) byte(c byte) bool {
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *jsonScanner) literal(s string) bool {
	if len(p.data)-p.pos >= len(s) && string(p.data[p.pos:p.pos+len(s)]) == s {
		p.pos += len(s)
		return true
	}
	return false
}

// uint8 reads a decimal integer 0-255 without sign, fraction or leading zero.
func (p *jsonScanner) uint8() (byte, bool) {
	start, v := p.pos, 0
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		v = v*10 + int(p.data[p.pos]-'0')
		p.pos++
		if v > 255 {
			return 0, false
		}
	}
	n := p.pos - start
	if n == 0 || (n > 1 && p.data[start] == '0') {
		return 0, false
	}
	if p.pos < len(p.data) && (p.data[p.pos] == '.' || p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		return 0, false
	}
	return byte(v), true
}

func (p *jsonScanner) end() error {
	p.space()
	if p.pos != len(p.data) {
		return fmt.Errorf("%w: trailing data", ErrBadBytes)
	}
	return nil
}
