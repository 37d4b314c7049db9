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
// so with DisallowUnknownFields this makes field matching exact. A key that
// appears twice in one object is refused too: encoding/json keeps the last,
// serde refuses the object, and the two must not disagree.
func checkJSONKeys(data []byte) error {
	var buf [16]uint32
	objects := buf[:0] // per open container: keys seen (bit per name), or noObject
	expectKey := false
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{':
			objects, expectKey = append(objects, 0), true
		case '[':
			objects, expectKey = append(objects, noObject), false
		case '}', ']':
			if len(objects) > 0 {
				objects = objects[:len(objects)-1]
			}
			expectKey = false
		case ',':
			expectKey = len(objects) > 0 && objects[len(objects)-1] != noObject
		case '"':
			end, escaped := jsonStringEnd(data, i)
			if expectKey {
				bit, err := checkJSONKey(data[i:end+1], escaped)
				if err != nil {
					return err
				}
				top := &objects[len(objects)-1]
				if *top&bit != 0 {
					return fmt.Errorf("%w: duplicate field %s", errJSON, data[i:end+1])
				}
				*top |= bit
				expectKey = false
			}
			i = end
		}
	}
	return nil
}

// noObject marks an open array in checkJSONKeys.
const noObject = 1 << 31

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

// jsonFieldNames are the v0 entry schema's field names; a key's bit in
// checkJSONKeys is its index here.
var jsonFieldNames = [...]string{"_v", "tree", "subtrees", "sig", "root", "parents", "metadata", "h",
	"name", "data", "key", "Direct", "Delegation", "hint", "path", "tips",
	"pubkey", "is_global", "settings_tips", "entropy"}

func checkJSONKey(quoted []byte, escaped bool) (uint32, error) {
	key := string(quoted[1 : len(quoted)-1])
	if escaped {
		if err := json.Unmarshal(quoted, &key); err != nil {
			return 0, fmt.Errorf("%w: %v", errJSON, err)
		}
	}
	for i, name := range jsonFieldNames {
		if key == name {
			return 1 << i, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown field %q (field names are case-sensitive)", errJSON, clip(key))
}
