package entry

import (
	"encoding/json"
	"fmt"
)

// checkJSONKeys refuses an object key of data, a valid JSON value, that is
// not byte for byte a field name of the v0 entry schema. encoding/json
// matches field names without regard to case, so it would read "Data" as
// "data", which serde treats as an unknown field: the two would disagree on
// the entry's ID. Every name below differs from the others in more than case,
// so with DisallowUnknownFields this makes field matching exact.
func checkJSONKeys(data []byte) error {
	var buf [16]bool
	objects := buf[:0] // per open container: is it an object
	expectKey := false
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{':
			objects, expectKey = append(objects, true), true
		case '[':
			objects, expectKey = append(objects, false), false
		case '}', ']':
			if len(objects) > 0 {
				objects = objects[:len(objects)-1]
			}
			expectKey = false
		case ',':
			expectKey = len(objects) > 0 && objects[len(objects)-1]
		case '"':
			end, escaped := jsonStringEnd(data, i)
			if expectKey {
				if err := checkJSONKey(data[i:end+1], escaped); err != nil {
					return err
				}
				expectKey = false
			}
			i = end
		}
	}
	return nil
}

// jsonStringEnd returns the index of the quote closing the string opening at
// start, and whether the string has escapes.
func jsonStringEnd(data []byte, start int) (int, bool) {
	escaped := false
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i, escaped
		}
	}
	return len(data) - 1, escaped
}

func checkJSONKey(quoted []byte, escaped bool) error {
	key := string(quoted[1 : len(quoted)-1])
	if escaped {
		if err := json.Unmarshal(quoted, &key); err != nil {
			return fmt.Errorf("%w: %v", errJSON, err)
		}
	}
	switch key {
	case "_v", "tree", "subtrees", "sig", "root", "parents", "metadata", "h",
		"name", "data", "key", "Direct", "Delegation", "hint", "path", "tips",
		"pubkey", "is_global", "settings_tips", "entropy":
		return nil
	}
	return fmt.Errorf("%w: unknown field %q (field names are case-sensitive)", errJSON, clip(key))
}
