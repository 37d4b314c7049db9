// Package fuzz holds the fuzz targets of the module (STYLE.md 2.8). The
// package has no code of its own: the targets live in package fuzz_test and
// their seed corpus in testdata/fuzz/<Target>/: seeds from the goldens plus
// every crasher ever found, kept as a regression.
//
// The entry targets, in entry_fuzz_test.go, are:
//
//   - FuzzEntryCBOR feeds arbitrary bytes to entry.DecodeCBOR. Decoding never
//     panics and every error wraps entry.ErrMalformed. Whatever decodes is the
//     canonical encoding: EncodeCBOR gives back exactly the input, its ID is
//     entry.IDOf(input), the re-encoding decodes again, and the entry's v0
//     JSON decodes with DecodeJSON to the same ID.
//   - FuzzEntryJSON feeds arbitrary bytes to entry.DecodeJSON. Decoding never
//     panics and every error wraps entry.ErrMalformed. Whatever decodes has a
//     canonical v0 JSON that is a fixed point (it decodes to the same ID and
//     encodes to the same bytes again), and its CBOR encoding decodes with
//     DecodeCBOR to the same ID.
//
// Their seeds come from kernel/entry/testdata/vectors.json, as f.Add calls and
// as committed corpus files, so that plain `go test ./fuzz` checks the
// properties on every golden vector and every past crasher.
//
// TestEntryJSONOfLargestEntry covers a limit the fuzzers cannot reach: the v0
// JSON of an entry of exactly EntryBytesMax must decode.
//
// FuzzWire (kernel wire messages) and FuzzDiff (kernel/dag against a
// reachability oracle) are described in their own files, as are the
// security targets in auth_fuzz_test.go: FuzzRequestAuth (request auth
// verifies exactly when untampered and fresh) and FuzzHandshake (handshake
// decoding, and no signature over bytes a caller chose).
//
// go test -fuzz takes one package and one target per run, so run each target
// with an anchored name:
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzEntryCBOR$' -fuzztime 10s
//	go test ./fuzz -run '^$' -fuzz '^FuzzEntryJSON$' -fuzztime 10s
//
// A failing input is written to testdata/fuzz/<Target>/; commit it with the
// fix. Rerun one input with go test ./fuzz -run '^FuzzEntryCBOR/<file>$'.
package fuzz
