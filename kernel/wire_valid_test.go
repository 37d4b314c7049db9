package kernel

import (
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

// plainTokens are the pieces the generator below builds JSON-like text
// from: valid structure, near misses and what plainJSON leaves to
// json.Valid.
var plainTokens = []string{"{", "}", "[", "]", ",", ":", " ", "\n", "\t", "\"", "\"a\"", "\"\"", "\"k\":",
	"0", "-", "1", "12", "01", "-0", "1.5", "1.", ".5", "1e5", "1E+5", "1e-", "2e", "-x",
	"true", "false", "null", "tru", "nul", "x", "\\", "\"\\n\"", "\"é\"", "\x00", "\x7f", "\"a\x01\"", "\xff"}

// TestPlainJSONImpliesValid: whatever plainJSON accepts, json.Valid
// accepts; and it accepts a bootstrap message.
func TestPlainJSONImpliesValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var text []byte
		if rapid.Bool().Draw(t, "raw") {
			text = rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")
		} else {
			for _, tok := range rapid.SliceOfN(rapid.SampledFrom(plainTokens), 0, 40).Draw(t, "tokens") {
				text = append(text, tok...)
			}
		}
		if plainJSON(text) && !json.Valid(text) {
			t.Fatalf("plainJSON accepts invalid JSON %q", text)
		}
		if isValidJSON(text) != json.Valid(text) {
			t.Fatalf("isValidJSON(%q) differs from json.Valid", text)
		}
	})
	deep := []byte("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")
	if plainJSON(deep) || !isValidJSON(deep) {
		t.Fatal("deep nesting: plainJSON must leave it to json.Valid, which accepts it")
	}
	for _, ok := range []string{`{"a":[1,-0.5e+3,"x",true,false,null,{}],"b":[]}`, ` {"Incremental":{"tree_id":"b","missing_entries":["QUJD","REVG"]}} `} {
		if !plainJSON([]byte(ok)) {
			t.Fatalf("plainJSON refuses %s", ok)
		}
	}
}
