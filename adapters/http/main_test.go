package http_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	httpadapter "github.com/eidsync/eidsync/adapters/http"
	"github.com/eidsync/eidsync/kernel"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// server, client connection and handler must be gone after Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Fixtures are written by hand from PROTOCOL.md 2.1 and 2.2; entries inside
// them are the golden vectors of kernel/entry.
const (
	keyA  = "ed25519:sB2i0qJzLHuXZHl5UlTlld60ZPiNuuhnlumxg3FK6fU="
	keyB  = "ed25519:5agUe84psnTMzC30yUfDLtRqLrWhKPYYx312vlPqD1Y="
	root  = "bafyr4idgewj3peojl76vddjb5awkxktgtsrak5t45zruu6h6npbs73mmbm"
	left  = "bafyr4ifw3xvsuenvnyk5kkhqajh4zs3kjlanrlkfvajl43b6ao3wppnz24"
	right = "bafyr4ibxy6gjjgnctc6w4jk2wugvv7peh7hrdaiwhpkjdcqwtgr6aakj5a"
)

// vector is one golden entry of kernel/entry: its v0 JSON and its ID.
type vector struct {
	Name string
	JSON string
	ID   string
}

func vectors(t testing.TB) map[string]vector {
	t.Helper()
	raw, err := os.ReadFile("../../kernel/entry/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]vector)
	for _, v := range file.Vectors {
		out[v.Name] = v
	}
	return out
}

// blobs decodes golden entries through a SendEntries request, the way a
// peer's entries arrive.
func blobs(t testing.TB, names ...string) []kernel.Blob {
	t.Helper()
	vs := vectors(t)
	parts := make([]string, len(names))
	for i, n := range names {
		v, ok := vs[n]
		if !ok {
			t.Fatalf("no golden vector %q", n)
		}
		parts[i] = v.JSON
	}
	m, _, err := kernel.DecodeRequest([]byte(`{"SendEntries":[`+strings.Join(parts, ",")+`]}`), kernel.DefaultWireLimits())
	if err != nil {
		t.Fatal(err)
	}
	return m.(kernel.SendEntries).Entries
}

// build makes a Transport and closes it when the test ends.
func build(t testing.TB, b httpadapter.Builder, lim kernel.WireLimits) *httpadapter.Transport {
	t.Helper()
	tr, err := b.Build(lim, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tr.(*httpadapter.Transport)
}

// testLogger sends the adapter's log to t.Log, so that a failing test shows
// it; lines written after the test's cleanups are dropped.
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.done = true
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
