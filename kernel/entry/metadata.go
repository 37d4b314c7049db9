package entry

import "fmt"

// Metadata is the conventional content of TreeNode.Metadata: JSON, not CBOR
// (PROTOCOL.md 1.1). SettingsTips pins the _settings store tips at commit
// time; verification runs against that pinned state. Entropy makes root
// entries unique.
type Metadata struct {
	SettingsTips []ID    `json:"settings_tips"`
	Entropy      *uint64 `json:"entropy"`
}

// Encode returns the metadata JSON as the reference writes it:
// {"settings_tips":[...],"entropy":N} with null for no entropy.
func (m Metadata) Encode() Bytes {
	m.SettingsTips = orEmpty(m.SettingsTips)
	b, err := marshalJSON(m)
	if err != nil {
		panic("entry: assertion failed: metadata does not encode: " + err.Error())
	}
	return b
}

// DecodeMetadata parses metadata JSON. Callers must treat metadata bytes as
// opaque for hashing (PROTOCOL.md 12.6); this is for reading the pin.
func DecodeMetadata(b Bytes) (Metadata, error) {
	var m Metadata
	if err := decodeJSON(b, &m); err != nil {
		return Metadata{}, fmt.Errorf("entry: metadata: %w", err)
	}
	return m, nil
}

// Entropy returns a pointer to v, for Metadata.Entropy.
func Entropy(v uint64) *uint64 { return &v }
