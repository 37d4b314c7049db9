// Package sim drives real kernel machines without real I/O: an in-memory
// store per machine, a network of queued messages that go through the real
// wire codec, and named entries so that traces read as sentences.
//
// Env is the harness behind the kernel's golden scenarios
// (kernel/testdata/*.txt, run by kernel/scenario_test.go with
// cockroachdb/datadriven): each directive is handled in its own
// env_handle_<directive>.go file, and every line of output comes from the
// kernel's Describe functions, never from logs.
package sim
