package eidsync

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	httpadapter "github.com/eidsync/eidsync/adapters/http"
	"github.com/eidsync/eidsync/internal/sigverify"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Benchmarks of PERFORMANCE.md G7, G9 and G10 over real HTTP on loopback,
// each printed as a ratio to a floor measured in the same run.

const benchEntries = 100_000

func benchNode(b *testing.B, opts Options) (*Instance, string) {
	b.Helper()
	ctx := context.Background()
	inst, err := Open(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = inst.Close(context.Background()) })
	if err := inst.EnableSync(ctx); err != nil {
		b.Fatal(err)
	}
	if err := inst.RegisterTransport(ctx, "http", httpadapter.Builder{Bind: "127.0.0.1:0"}); err != nil {
		b.Fatal(err)
	}
	addrs, err := inst.AcceptConnections(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return inst, addrs[0]
}

// source is a node holding a chain of benchEntries ~460-byte entries, and
// those entries' blobs.
func source(b *testing.B) (*Instance, string, entry.ID, []kernel.Blob) {
	b.Helper()
	ctx := context.Background()
	a, addr := benchNode(b, Options{InMemory: true})
	db, err := a.CreateDatabase(ctx, "bench", Public(PermRead))
	if err != nil {
		b.Fatal(err)
	}
	values := make([][]byte, benchEntries-1)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte(i)}, 192)
	}
	if _, err := db.AppendMany(ctx, "data", values); err != nil {
		b.Fatal(err)
	}
	var blobs []kernel.Blob
	err = a.st.Entries(db.ID(), 0, func(_ uint64, blob kernel.Blob) error { blobs = append(blobs, blob); return nil })
	if err != nil {
		b.Fatal(err)
	}
	return a, addr, db.ID(), blobs
}

// BenchmarkBootstrap: an empty node pulls benchEntries over HTTP. Floors,
// measured in this run: bbolt's own bulk insert of the same bytes in
// batches of the same size (goal >= 0.5x, G10), and single-core JSON decode
// plus signature check of the same entries (goal >= 0.7x in memory, G9).
func BenchmarkBootstrap(b *testing.B) {
	_, addr, tree, blobs := source(b)
	rates := map[string]float64{}
	run := func(name string, fn func(b *testing.B)) {
		b.Run(name, func(b *testing.B) {
			var elapsed, cpu time.Duration
			for b.Loop() {
				start, cpu0 := time.Now(), cpuTime()
				fn(b)
				elapsed, cpu = time.Since(start), cpuTime()-cpu0
			}
			rates[name] = float64(len(blobs)) / elapsed.Seconds()
			b.ReportMetric(rates[name], "entries/s")
			// NB: CPU time of the whole process (both nodes here), which
			// other loads on the machine disturb far less than wall time.
			b.ReportMetric(float64(cpu.Microseconds())/float64(len(blobs)), "cpu-us/entry")
		})
	}
	run("floor_bbolt_bulk_insert", func(b *testing.B) { rawBolt(b, blobs) })
	run("floor_decode_verify", func(b *testing.B) { decodeVerify(b, blobs) })
	run("floor_decode_verify_v1", func(b *testing.B) { decodeVerifyV1(b, blobs) })
	run("http_into_bbolt", func(b *testing.B) {
		pull(b, Options{DataDir: filepath.Join(b.TempDir(), "n")}, addr, tree, len(blobs))
	})
	run("http_into_memory", func(b *testing.B) { pull(b, Options{InMemory: true}, addr, tree, len(blobs)) })
	bolt, verify, verifyV1 := rates["floor_bbolt_bulk_insert"], rates["floor_decode_verify"], rates["floor_decode_verify_v1"]
	// NB: the ratios land on the parent benchmark's line.
	b.ReportMetric(rates["http_into_bbolt"]/bolt, "bbolt/bulk_insert")
	b.ReportMetric(rates["http_into_bbolt"]/verifyV1, "bbolt/decode_verify_v1")
	b.ReportMetric(rates["http_into_memory"]/verify, "memory/decode_verify")
	b.ReportMetric(rates["http_into_memory"]/verifyV1, "memory/decode_verify_v1")
	b.Logf("bootstrap of %d entries: into bbolt %.0f/s = %.2fx bbolt's bulk insert (goal 0.5x, G10), %.2fx v1 decode+verify; "+
		"in memory %.0f/s = %.2fx v0 decode+verify (goal 0.7x, G9), %.2fx v1 decode+verify",
		len(blobs), rates["http_into_bbolt"], rates["http_into_bbolt"]/bolt, rates["http_into_bbolt"]/verifyV1,
		rates["http_into_memory"], rates["http_into_memory"]/verify, rates["http_into_memory"]/verifyV1)
}

func pull(b *testing.B, opts Options, addr string, tree entry.ID, want int) {
	inst, _ := benchNode(b, opts)
	res, err := inst.SyncWithPeer(context.Background(), addr, tree)
	if err != nil || res.Pulled != want {
		b.Fatalf("bootstrap: %+v %v", res, err)
	}
	b.StopTimer()
	_ = inst.Close(context.Background())
	b.StartTimer()
}

// rawBolt puts the same entries straight into a bbolt bucket, 4096 a
// transaction: what the disk and bbolt allow.
func rawBolt(b *testing.B, blobs []kernel.Blob) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for chunk := range slices.Chunk(blobs, 4096) {
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("entries"))
			if err != nil {
				return err
			}
			for _, blob := range chunk {
				if err := bk.Put(blob.ID.Bytes(), blob.Data); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// decodeVerify decodes each entry's v0 JSON and checks its signature, on
// one core: what ingest must do per entry in any case. It uses the fastest
// verifier the node has (the transports' sigverify, which keeps expanded
// keys), so that the ratio compares with the best this code can do.
func decodeVerify(b *testing.B, blobs []kernel.Blob) {
	var verifier sigverify.Verifier
	b.StopTimer()
	jsons := make([][]byte, len(blobs))
	for i, blob := range blobs {
		jsons[i], _ = entry.EncodeJSON(blob.Entry)
	}
	b.StartTimer()
	for _, js := range jsons {
		e, _, err := entry.DecodeJSON(js)
		if err != nil {
			b.Fatal(err)
		}
		if pub := e.Sig.Key.Hint.PubKey; !pub.IsZero() {
			if err := entry.VerifySignatureWith(e, pub, verifier.Verify); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// decodeVerifyV1 is decodeVerify for the form eidsync peers exchange (v1:
// base64 of the canonical CBOR): base64 and CBOR decode, hash, signature.
func decodeVerifyV1(b *testing.B, blobs []kernel.Blob) {
	var verifier sigverify.Verifier
	lim := kernel.DefaultWireLimits().Entry
	b.StopTimer()
	texts := make([]string, len(blobs))
	for i, blob := range blobs {
		texts[i] = base64.StdEncoding.EncodeToString(blob.Data)
	}
	b.StartTimer()
	for i, text := range texts {
		data, err := base64.StdEncoding.Strict().DecodeString(text)
		if err != nil {
			b.Fatal(err)
		}
		e, id, err := lim.DecodeCBOR(data)
		if err != nil || id != blobs[i].ID {
			b.Fatalf("decode: %v", err)
		}
		if pub := e.Sig.Key.Hint.PubKey; !pub.IsZero() {
			if err := entry.VerifySignatureWith(e, pub, verifier.Verify); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkNoopSyncLatency: syncing a node that is up to date. Floor: one
// empty HTTP round trip on a keep-alive connection, in this run (G7).
func BenchmarkNoopSyncLatency(b *testing.B) {
	ctx := context.Background()
	_, addr, tree, _ := source(b)
	c, _ := benchNode(b, Options{InMemory: true})
	if _, err := c.SyncWithPeer(ctx, addr, tree); err != nil {
		b.Fatal(err)
	}
	floor := percentiles(b, 2000, emptyRoundTrip(b))
	ours := percentiles(b, 2000, func() {
		if _, err := c.SyncWithPeer(ctx, addr, tree); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(ours[0].Microseconds()), "p50-us")
	b.ReportMetric(float64(ours[1].Microseconds()), "p99-us")
	b.ReportMetric(float64(ours[0])/float64(floor[0]), "p50/floor")
	b.ReportMetric(float64(ours[1])/float64(floor[1]), "p99/floor")
	b.Logf("no-op sync at %d entries: p50 %v p99 %v; empty HTTP round trip p50 %v p99 %v", benchEntries, ours[0], ours[1], floor[0], floor[1])
}

func percentiles(b *testing.B, n int, fn func()) [2]time.Duration {
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		fn()
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	_ = b
	return [2]time.Duration{lat[n/2], lat[n*99/100]}
}

// emptyRoundTrip serves an empty JSON answer and returns a function that
// makes one keep-alive POST to it.
func emptyRoundTrip(b *testing.B) func() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &nethttp.Server{Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`"Ack"`))
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	client := &nethttp.Client{Transport: &nethttp.Transport{}}
	b.Cleanup(client.CloseIdleConnections)
	url := fmt.Sprintf("http://%s/api/v0", ln.Addr())
	return func() {
		resp, err := client.Post(url, "application/json", bytes.NewReader([]byte(`{"SendEntries":[]}`)))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
