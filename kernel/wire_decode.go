package kernel

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/eidsync/eidsync/kernel/entry"
)

// This file reads the v0 JSON as serde reads it: members matched by exact,
// case-sensitive name, unknown members ignored, a duplicated member refused,
// missing Option members read as null, every other member required.

// wireError is a decode error: its kind (ErrMalformed, ErrMessageTooLarge,
// ErrUnknownVariant), the path of the offending field and, for an entry, the
// entry package's error.
type wireError struct {
	kind  error
	path  string
	msg   string
	cause error
}

func (e *wireError) Error() string {
	s := e.kind.Error()
	if e.path != "" {
		s += ": " + e.path
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *wireError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func malformedf(format string, args ...any) error {
	return &wireError{kind: ErrMalformed, msg: fmt.Sprintf(format, args...)}
}

func tooLargef(format string, args ...any) error {
	return &wireError{kind: ErrMessageTooLarge, msg: fmt.Sprintf(format, args...)}
}

// atPath prefixes err's path with path: a field name or an "[i]" index.
func atPath(path string, err error) error {
	var we *wireError
	if !errors.As(err, &we) {
		return &wireError{kind: ErrMalformed, path: path, cause: err}
	}
	c := *we
	switch {
	case c.path == "":
		c.path = path
	case c.path[0] == '[':
		c.path = path + c.path
	default:
		c.path = path + "." + c.path
	}
	return &c
}

// jsonObject is one JSON object's members by exact name. dups holds the names
// that occur more than once; count counts every occurrence.
type jsonObject struct {
	members map[string]json.RawMessage
	dups    map[string]bool
	count   int
}

// parseObject splits one JSON object into its members. Anything but
// whitespace after the object is refused.
func parseObject(data []byte) (jsonObject, error) {
	if o, ok := splitObject(data); ok {
		return o, nil
	}
	return parseObjectDecoded(data)
}

// splitObject is parseObject for a valid JSON object, without the JSON
// decoder's copies: members are sub-slices of data. Anything else, valid
// JSON that is not an object included, is not ok and goes to the decoder,
// which gives the errors it always gave.
func splitObject(data []byte) (jsonObject, bool) {
	data = trimSpace(data)
	if len(data) < 2 || data[0] != '{' || !isValidJSON(data) {
		return jsonObject{}, false
	}
	return splitValidObject(data)
}

// splitValidObject is splitObject for data known to be valid JSON with no
// space around it: a value inside a message splitMessage has checked.
func splitValidObject(data []byte) (jsonObject, bool) {
	if len(data) < 2 || data[0] != '{' {
		return jsonObject{}, false
	}
	// NB: from here on data is one valid JSON object, so each index below
	// stays in range; the checks only guard against a slip.
	o := jsonObject{members: make(map[string]json.RawMessage)}
	i := skipSpace(data, 1)
	if data[i] == '}' {
		return o, true
	}
	for i < len(data) && data[i] == '"' {
		end := skipValue(data, i)
		var name string
		if quoted := data[i:end]; bytes.IndexByte(quoted, '\\') < 0 && isASCII(quoted) {
			name = string(quoted[1 : len(quoted)-1])
		} else if json.Unmarshal(quoted, &name) != nil {
			return jsonObject{}, false
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return jsonObject{}, false
		}
		i = skipSpace(data, i+1)
		end = skipValue(data, i)
		if _, seen := o.members[name]; seen {
			if o.dups == nil {
				o.dups = make(map[string]bool)
			}
			o.dups[name] = true
		}
		o.members[name] = data[i:end:end]
		o.count++
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		return o, i == len(data)-1 && data[i] == '}'
	}
	return jsonObject{}, false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at data[i].
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch c := data[i]; c {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
		default:
			if depth > 0 { // inside an array or object only strings and brackets matter
				i++
				continue
			}
			for i < len(data) && !strings.ContainsRune(",:}] \t\r\n", rune(data[i])) {
				i++ // a number, true, false or null
			}
			return i
		}
		if depth == 0 {
			return i
		}
		if depth < 0 {
			return len(data)
		}
	}
	return i
}

// parseObjectDecoded is parseObject through the JSON decoder.
func parseObjectDecoded(data []byte) (jsonObject, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return jsonObject{}, malformedf("want a JSON object")
	}
	o := jsonObject{members: make(map[string]json.RawMessage)}
	for d.More() {
		tok, err := d.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return jsonObject{}, malformedf("bad object member: %v", err)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return jsonObject{}, malformedf("member %q: %v", clipName(name), err)
		}
		if _, seen := o.members[name]; seen {
			if o.dups == nil {
				o.dups = make(map[string]bool)
			}
			o.dups[name] = true
		}
		o.members[name] = trimSpace(raw)
		o.count++
	}
	if _, err := d.Token(); err != nil {
		return jsonObject{}, malformedf("%v", err)
	}
	if len(trimSpace(data[d.InputOffset():])) != 0 {
		return jsonObject{}, malformedf("trailing data after JSON value")
	}
	return o, nil
}

// eachElement calls fn on each element of a JSON array, refusing more than max.
func eachElement(raw json.RawMessage, max int, fn func(elem json.RawMessage) error) error {
	if elems, ok := plainStrings(raw, max); ok {
		for i, elem := range elems {
			if err := fn(elem); err != nil {
				return atPath(fmt.Sprintf("[%d]", i), err)
			}
		}
		return nil
	}
	return eachElementDecoded(raw, max, fn)
}

// eachElementDecoded is eachElement through the JSON decoder, for any array.
func eachElementDecoded(raw json.RawMessage, max int, fn func(elem json.RawMessage) error) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
		return malformedf("want a JSON array")
	}
	for i := 0; d.More(); i++ {
		if i == max {
			return tooLargef("more than %d items", max)
		}
		var elem json.RawMessage
		if err := d.Decode(&elem); err != nil {
			return atPath(fmt.Sprintf("[%d]", i), malformedf("%v", err))
		}
		if err := fn(trimSpace(elem)); err != nil {
			return atPath(fmt.Sprintf("[%d]", i), err)
		}
	}
	if _, err := d.Token(); err != nil {
		return malformedf("%v", err)
	}
	return nil
}

func trimSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

// plainStrings splits an array of at most max JSON strings made of
// printable ASCII without escapes (IDs, base64 entries: the bulk of a
// bootstrap) without copying them, as sub-slices of raw. Any other array,
// or a malformed one, is not ok: the decoder path then reads it, with the
// same result and errors as before this shortcut.
func plainStrings(raw json.RawMessage, max int) ([]json.RawMessage, bool) {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	i, n := 0, len(raw)
	skip := func() {
		for i < n && isSpace(raw[i]) {
			i++
		}
	}
	skip()
	if i == n || raw[i] != '[' {
		return nil, false
	}
	i++
	skip()
	var elems []json.RawMessage
	if i < n && raw[i] == ']' {
		i++
		skip()
		return elems, i == n
	}
	for {
		if i == n || raw[i] != '"' || len(elems) == max {
			return nil, false
		}
		start := i
		for i++; i < n && raw[i] != '"'; i++ {
			if c := raw[i]; c < 0x20 || c > 0x7e || c == '\\' {
				return nil, false
			}
		}
		if i == n {
			return nil, false
		}
		i++
		elems = append(elems, raw[start:i:i])
		skip()
		if i == n {
			return nil, false
		}
		switch raw[i] {
		case ',':
			i++
			skip()
		case ']':
			i++
			skip()
			return elems, i == n
		default:
			return nil, false
		}
	}
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// parseString reads a JSON string. raw comes from the JSON decoder, so a
// string without a backslash is its own content.
func parseString(raw json.RawMessage) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", malformedf("want a JSON string")
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", malformedf("%v", err)
	}
	return s, nil
}

// parseUint reads a JSON integer that fits bits: no sign, fraction or
// exponent, as serde reads an unsigned integer.
func parseUint(raw json.RawMessage, bits int) (uint64, error) {
	v, err := strconv.ParseUint(string(raw), 10, bits)
	if err != nil {
		return 0, malformedf("want an unsigned integer of at most %d bits", bits)
	}
	return v, nil
}

func parseU64(raw json.RawMessage) (uint64, error) { return parseUint(raw, 64) }

func parseBool(raw json.RawMessage) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, malformedf("want true or false")
}

// parseID reads an ID string; the empty ID names nothing and is refused.
func parseID(raw json.RawMessage) (entry.ID, error) {
	s, err := parseString(raw)
	if err != nil {
		return entry.ID{}, err
	}
	if s == "" {
		return entry.ID{}, malformedf("empty ID")
	}
	id, err := entry.ParseID(s)
	if err != nil {
		return entry.ID{}, &wireError{kind: ErrMalformed, cause: err}
	}
	return id, nil
}

func parseKey(raw json.RawMessage) (entry.PublicKey, error) {
	s, err := parseString(raw)
	if err != nil {
		return entry.PublicKey{}, err
	}
	k, err := entry.ParsePublicKey(s)
	if err != nil {
		return entry.PublicKey{}, &wireError{kind: ErrMalformed, cause: err}
	}
	return k, nil
}

// parseBytes reads a Vec<u8>: an array of integers 0-255, never a string
// (PROTOCOL.md 12.1). Empty reads as nil.
func parseBytes(raw json.RawMessage, max int) ([]byte, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, malformedf("want an array of integers 0-255")
	}
	var b entry.Bytes
	if err := b.UnmarshalJSON(raw); err != nil {
		return nil, &wireError{kind: ErrMalformed, cause: err}
	}
	if len(b) > max {
		return nil, tooLargef("%d bytes, limit %d", len(b), max)
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

func parseIDs(raw json.RawMessage, max int) ([]entry.ID, error) {
	var ids []entry.ID
	err := eachElement(raw, max, func(elem json.RawMessage) error {
		id, err := parseID(elem)
		ids = append(ids, id)
		return err
	})
	return ids, err
}

// parseBlob decodes one v0 JSON entry into a Blob. The Blob is marked
// verified only when its signature shape is valid and, if its hint names a
// public key, the signature verifies; otherwise ingest checks it again and
// refuses it, so a bad signature does not fail the message.
func parseBlob(raw json.RawMessage, lim entry.Limits, deferSignature bool) (Blob, error) {
	e, id, data, err := decodeEntry(raw, lim)
	if err != nil {
		return Blob{}, &wireError{kind: ErrMalformed, cause: err}
	}
	b := Blob{ID: id, Data: data, Entry: e}
	if !deferSignature {
		verifyBlob(&b, nil)
	}
	return b, nil
}

// verifyBlob marks b verified when its signature is well formed and, if its
// hint names a key, verifies with it. A blob left unverified is checked
// again on ingest and refused there.
func verifyBlob(b *Blob, verify entry.Verifier) {
	b.verified = checkSignatureWith(b.Entry, verify) == nil
}

// decodeEntry reads an entry in either form: the v0 JSON object, or the v1
// string of base64 canonical CBOR (see wireWriter.blobCBOR).
func decodeEntry(raw json.RawMessage, lim entry.Limits) (*entry.Entry, entry.ID, []byte, error) {
	if len(raw) == 0 || raw[0] != '"' {
		e, id, err := lim.DecodeJSON(raw)
		if err != nil {
			return nil, entry.ID{}, nil, err
		}
		data, err := entry.EncodeCBOR(e)
		return e, id, data, err
	}
	if len(raw) > 2+base64.StdEncoding.EncodedLen(lim.EntryBytesMax) {
		return nil, entry.ID{}, nil, fmt.Errorf("entry of %d base64 bytes is over EntryBytesMax", len(raw))
	}
	var data []byte
	if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		// NB: a string without escapes is its own content: decode it in
		// place rather than through a copy.
		text := raw[1 : len(raw)-1]
		data = make([]byte, base64.StdEncoding.DecodedLen(len(text)))
		n, err := base64.StdEncoding.Strict().Decode(data, text)
		if err != nil {
			return nil, entry.ID{}, nil, fmt.Errorf("entry is not padded standard base64: %w", err)
		}
		data = data[:n:n]
	} else {
		text, err := parseString(raw)
		if err != nil {
			return nil, entry.ID{}, nil, err
		}
		if data, err = base64.StdEncoding.Strict().DecodeString(text); err != nil {
			return nil, entry.ID{}, nil, fmt.Errorf("entry is not padded standard base64: %w", err)
		}
	}
	e, id, err := lim.DecodeCBOR(data)
	return e, id, data, err
}

func parseBlobs(raw json.RawMessage, lim *WireLimits) ([]Blob, error) {
	var blobs []Blob
	err := eachElement(raw, lim.EntriesMax, func(elem json.RawMessage) error {
		b, err := parseBlob(elem, lim.Entry, lim.DeferSignatures)
		blobs = append(blobs, b)
		return err
	})
	return blobs, err
}

// parsePermission reads "Read", {"Write":N} or {"Admin":N}; serde also
// accepts the unit variant as {"Read":null}.
func parsePermission(raw json.RawMessage) (Permission, error) {
	name, body, err := splitEnum(raw)
	if err != nil {
		return Permission{}, err
	}
	switch {
	case name == "Read" && (body == nil || isNull(body)):
		return Permission{Level: PermRead}, nil
	case name == "Write" || name == "Admin":
		p, err := parseUint(body, 32)
		if err != nil {
			return Permission{}, atPath(name, err)
		}
		level := PermWrite
		if name == "Admin" {
			level = PermAdmin
		}
		return Permission{Level: level, Priority: uint32(p)}, nil
	}
	return Permission{}, malformedf("want \"Read\", {\"Write\":N} or {\"Admin\":N}")
}

// splitEnum splits an externally tagged enum value: a bare string is a unit
// variant (body nil), an object with one member is a variant with content.
func splitEnum(raw json.RawMessage) (string, json.RawMessage, error) {
	if len(raw) > 0 && raw[0] == '"' {
		if !json.Valid(raw) {
			return "", nil, malformedf("invalid JSON string")
		}
		name, err := parseString(raw)
		return name, nil, err
	}
	o, err := parseObject(raw)
	if err != nil {
		return "", nil, err
	}
	if o.count != 1 {
		return "", nil, malformedf("an enum value is a string or an object with one member, got %d members", o.count)
	}
	for name, body := range o.members {
		return name, body, nil
	}
	panic("kernel: assertion failed: object with one member has none")
}

// parseDoc reads an Option<Doc> as raw JSON: an object, kept compacted.
func parseDoc(raw json.RawMessage, max int) ([]byte, error) {
	if len(raw) > max {
		return nil, tooLargef("%d bytes, limit %d", len(raw), max)
	}
	if raw[0] != '{' {
		return nil, malformedf("want a JSON object")
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, malformedf("%v", err)
	}
	return out.Bytes(), nil
}
