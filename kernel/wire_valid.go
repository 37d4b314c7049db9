package kernel

import "encoding/json"

// isValidJSON is json.Valid, faster on what messages are made of. A
// bootstrap body is megabytes of ASCII strings without escapes, which
// json.Valid's byte-at-a-time state machine checked at about 2 us per
// entry. plainJSON accepts only a subset of JSON, strictly; whatever it does
// not accept, invalid or merely unusual (escapes, non-ASCII text, deep
// nesting), goes to json.Valid, which decides.
func isValidJSON(data []byte) bool {
	if plainJSON(data) {
		return true
	}
	return json.Valid(data)
}

// plainDepthMax bounds the nesting plainJSON follows; deeper input goes to
// json.Valid.
const plainDepthMax = 32

// plainJSON reports whether data is one JSON value, with optional space
// around it, made only of objects, arrays, strings of printable ASCII
// without escapes, numbers, true, false and null. False means "not shown
// valid", never "invalid".
func plainJSON(data []byte) bool {
	p := plainParser{data: data}
	p.space()
	if !p.value(0) {
		return false
	}
	p.space()
	return p.pos == len(data)
}

type plainParser struct {
	data []byte
	pos  int
}

func (p *plainParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

// next returns the byte at pos, or 0 at the end (0 starts no value).
func (p *plainParser) next() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *plainParser) value(depth int) bool {
	switch c := p.next(); {
	case c == '{':
		return depth < plainDepthMax && p.object(depth+1)
	case c == '[':
		return depth < plainDepthMax && p.array(depth+1)
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

func (p *plainParser) literal(word string) bool {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return false
	}
	p.pos += len(word)
	return true
}

// str reads a string of bytes 0x20-0x7e other than a quote or a backslash.
func (p *plainParser) str() bool {
	p.pos++ // the opening quote
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		p.pos++
		switch {
		case c == '"':
			return true
		case c < 0x20 || c > 0x7e || c == '\\':
			return false
		}
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *plainParser) number() bool {
	if p.next() == '-' {
		p.pos++
	}
	switch c := p.next(); {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return false
	}
	if p.next() == '.' {
		p.pos++
		if !p.digits() {
			return false
		}
	}
	if c := p.next(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.next(); c == '+' || c == '-' {
			p.pos++
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (p *plainParser) digits() bool {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos > start
}

func (p *plainParser) object(depth int) bool {
	p.pos++ // {
	p.space()
	if p.next() == '}' {
		p.pos++
		return true
	}
	for {
		if p.next() != '"' || !p.str() {
			return false
		}
		p.space()
		if p.next() != ':' {
			return false
		}
		p.pos++
		p.space()
		if !p.value(depth) {
			return false
		}
		if more, ok := p.separator('}'); !more {
			return ok
		}
	}
}

func (p *plainParser) array(depth int) bool {
	p.pos++ // [
	p.space()
	if p.next() == ']' {
		p.pos++
		return true
	}
	for {
		if !p.value(depth) {
			return false
		}
		if more, ok := p.separator(']'); !more {
			return ok
		}
	}
}

// separator reads what follows a member or an element: a comma, after
// which more follow, or the closing bracket; anything else is refused.
func (p *plainParser) separator(closing byte) (more, ok bool) {
	p.space()
	switch p.next() {
	case ',':
		p.pos++
		p.space()
		return true, true
	case closing:
		p.pos++
		return false, true
	}
	return false, false
}
