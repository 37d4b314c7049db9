package http_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	httpadapter "github.com/eidsync/eidsync/adapters/http"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/transport"
)

// echoHandler answers SendEntries with Count (or Ack for at most one entry)
// and anything else with an Error naming it; it records the remotes seen.
type echoHandler struct {
	mu      sync.Mutex
	remotes []string
}

func (e *echoHandler) handle(_ context.Context, remote string, version uint32, msg kernel.Message) (kernel.Message, uint32, error) {
	e.mu.Lock()
	e.remotes = append(e.remotes, remote)
	e.mu.Unlock()
	if s, ok := msg.(kernel.SendEntries); ok {
		if len(s.Entries) <= 1 {
			return kernel.Ack{}, version, nil
		}
		return kernel.Count{N: uint64(len(s.Entries))}, version, nil
	}
	return kernel.ErrorResponse{Message: fmt.Sprintf("unexpected %T", msg)}, version, nil
}

// serve builds a serving Transport on a loopback port and returns it with
// its address; the test's cleanup closes it.
func serve(t *testing.T, b httpadapter.Builder, h transport.Handler) (*httpadapter.Transport, string) {
	t.Helper()
	if b.Bind == "" {
		b.Bind = "127.0.0.1:0"
	}
	tr := build(t, b, kernel.DefaultWireLimits())
	addr, err := tr.Serve(h)
	if err != nil {
		t.Fatal(err)
	}
	return tr, addr
}

func TestSendRoundTrip(t *testing.T) {
	e := &echoHandler{}
	_, addr := serve(t, httpadapter.Builder{}, e.handle)
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("bound address %q", addr)
	}
	client := build(t, httpadapter.Builder{RequestTimeout: 5 * time.Second}, kernel.DefaultWireLimits())
	ctx := context.Background()
	for i := range 3 { // the second and third reuse the connection
		reply, err := client.Send(ctx, addr, 0, kernel.SendEntries{Entries: blobs(t, "root_unsigned", "child_left")})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if reply != (kernel.Count{N: 2}) {
			t.Fatalf("reply %#v, want Count 2", reply)
		}
	}
	reply, err := client.Send(ctx, addr, 0, kernel.SendEntries{})
	if err != nil || reply != (kernel.Ack{}) {
		t.Fatalf("reply %#v, %v; want Ack", reply, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.remotes {
		if !strings.HasPrefix(r, "http:127.0.0.1:") {
			t.Errorf("remote %q, want http:127.0.0.1:port", r)
		}
	}
}

// TestSendTimeout: a handler that hangs past the client's RequestTimeout
// gives the client a clean timeout error, and the handler's context ends
// when the client hangs up, so nothing is left running after Close.
func TestSendTimeout(t *testing.T) {
	entered := make(chan struct{}, 1)
	released := make(chan error, 1)
	hang := func(ctx context.Context, _ string, _ uint32, _ kernel.Message) (kernel.Message, uint32, error) {
		entered <- struct{}{}
		<-ctx.Done()
		released <- ctx.Err()
		return nil, 0, ctx.Err()
	}
	_, addr := serve(t, httpadapter.Builder{}, hang)
	client := build(t, httpadapter.Builder{RequestTimeout: 200 * time.Millisecond}, kernel.DefaultWireLimits())

	start := time.Now()
	_, err := client.Send(context.Background(), addr, 0, kernel.SendEntries{})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Send succeeded against a hanging handler")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	want := "http: send to " + addr + ": no answer within 200ms"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
	if elapsed < 200*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("Send returned after %v, want about 200ms", elapsed)
	}
	<-entered
	select {
	case err := <-released:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler context ended with %v, want canceled (the client hung up)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler still running 5s after the client gave up")
	}
}

// TestCloseForcesStuckRequests: Close waits for requests in progress until
// its context ends, then closes their connections and cancels their
// contexts; the client sees an error, not a hang.
func TestCloseForcesStuckRequests(t *testing.T) {
	entered := make(chan struct{}, 1)
	released := make(chan struct{})
	hang := func(ctx context.Context, _ string, _ uint32, _ kernel.Message) (kernel.Message, uint32, error) {
		entered <- struct{}{}
		<-ctx.Done()
		close(released)
		return nil, 0, ctx.Err()
	}
	server, addr := serve(t, httpadapter.Builder{}, hang)
	client := build(t, httpadapter.Builder{RequestTimeout: 10 * time.Second}, kernel.DefaultWireLimits())

	sent := make(chan error, 1)
	go func() {
		_, err := client.Send(context.Background(), addr, 0, kernel.SendEntries{})
		sent <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := server.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want a deadline error for the stuck request", err)
	}
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("handler context not cancelled by Close")
	}
	select {
	case err := <-sent:
		if err == nil || !strings.HasPrefix(err.Error(), "http: send to "+addr+": ") {
			t.Errorf("Send: %v, want an error naming %s", err, addr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send still waiting after the server closed")
	}
	if _, err := server.Addr(); !errors.Is(err, httpadapter.ErrNotServing) {
		t.Errorf("Addr after Close: %v, want ErrNotServing", err)
	}
}

func TestSendCallerContext(t *testing.T) {
	_, addr := serve(t, httpadapter.Builder{}, (&echoHandler{}).handle)
	client := build(t, httpadapter.Builder{}, kernel.DefaultWireLimits())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := client.Send(ctx, addr, 0, kernel.SendEntries{})
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "no answer within") {
		t.Errorf("Send with a cancelled context: %v", err)
	}
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	client := build(t, httpadapter.Builder{}, kernel.DefaultWireLimits())
	start := time.Now()
	_, err = client.Send(context.Background(), addr, 0, kernel.SendEntries{})
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("refused connection took %v", elapsed)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not wrap ECONNREFUSED", err)
	}
	if want := "http: send to " + addr + ": "; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q, want %q... connection refused", err, want)
	}
}

// TestSendBadPeer: answers that are not a response of ours are errors that
// say so, with the peer's address.
func TestSendBadPeer(t *testing.T) {
	small := kernel.DefaultWireLimits()
	small.MessageBytesMax = 64
	cases := []struct {
		name    string
		limits  kernel.WireLimits
		status  int
		body    string
		wantErr error
		wantMsg string
	}{
		{name: "garbage", status: 200, body: "hello, world", wantErr: kernel.ErrMalformed, wantMsg: "peer answered garbage"},
		{name: "empty", status: 200, body: "", wantErr: kernel.ErrMalformed, wantMsg: "peer answered garbage"},
		{name: "unknown_variant", status: 200, body: `{"Bogus":1}`, wantErr: kernel.ErrUnknownVariant, wantMsg: "peer answered garbage"},
		{name: "request_not_response", status: 200, body: `{"SendEntries":[]}`, wantErr: kernel.ErrUnknownVariant, wantMsg: "peer answered garbage"},
		{name: "too_large", limits: small, status: 200, body: `{"Error":"` + strings.Repeat("x", 100) + `"}`, wantErr: kernel.ErrMessageTooLarge, wantMsg: "peer answered more than 64 bytes: kernel: message too large"},
		{name: "status_413", status: 413, body: "request body too large\nsecond line", wantMsg: "peer answered 413: request body too large"},
		{name: "status_redirect", status: 307, body: "", wantMsg: "peer answered 307"},
		{name: "status_long_body", status: 500, body: strings.Repeat("y", 1000), wantMsg: "peer answered 500: " + strings.Repeat("y", 200)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.limits.MessageBytesMax == 0 {
				c.limits = kernel.DefaultWireLimits()
			}
			peer := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
				if r.Method != nethttp.MethodPost || r.URL.Path != "/api/v0" || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("peer got %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
				}
				if c.status == 307 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer peer.Close()
			addr := strings.TrimPrefix(peer.URL, "http://")
			client := build(t, httpadapter.Builder{}, c.limits)
			reply, err := client.Send(context.Background(), addr, 0, kernel.SendEntries{})
			if err == nil {
				t.Fatalf("Send returned %#v, want an error", reply)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("error %v does not wrap %v", err, c.wantErr)
			}
			want := "http: send to " + addr + ": " + c.wantMsg
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n %q\nwant prefix\n %q", err, want)
			}
			var se *httpadapter.StatusError
			if (c.status != 200) != errors.As(err, &se) {
				t.Errorf("error %v: StatusError %v, want one for status %d", err, se, c.status)
			} else if se != nil && se.Code != c.status {
				t.Errorf("StatusError.Code %d, want %d", se.Code, c.status)
			}
		})
	}
}

// TestSendStatusFromServer: our own server's refusal reaches our client as
// a StatusError.
func TestSendStatusFromServer(t *testing.T) {
	small := kernel.DefaultWireLimits()
	small.MessageBytesMax = 64
	server := build(t, httpadapter.Builder{Bind: "127.0.0.1:0"}, small)
	addr, err := server.Serve((&echoHandler{}).handle)
	if err != nil {
		t.Fatal(err)
	}
	client := build(t, httpadapter.Builder{}, kernel.DefaultWireLimits())
	_, err = client.Send(context.Background(), addr, 0, kernel.SendEntries{Entries: blobs(t, "root_unsigned")})
	var se *httpadapter.StatusError
	if !errors.As(err, &se) || se.Code != nethttp.StatusRequestEntityTooLarge {
		t.Fatalf("Send: %v, want a 413 StatusError", err)
	}
	want := "http: send to " + addr + ": peer answered 413: http: request body of "
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}

func TestSendRefusesBadInput(t *testing.T) {
	small := kernel.DefaultWireLimits()
	small.MessageBytesMax = 64
	client := build(t, httpadapter.Builder{}, small)
	cases := []struct {
		name    string
		addr    string
		version uint32
		msg     kernel.Message
		wantErr error
		wantMsg string
	}{
		{name: "url", addr: "http://127.0.0.1:1", msg: kernel.SendEntries{}, wantMsg: "address must be host:port"},
		{name: "no_port", addr: "127.0.0.1", msg: kernel.SendEntries{}, wantMsg: "address must be host:port"},
		{name: "path", addr: "127.0.0.1:1/x", msg: kernel.SendEntries{}, wantMsg: "address must be host:port"},
		{name: "v1_to_v0", addr: "127.0.0.1:1", msg: kernel.GetEntries{TreeID: mustID(t, root)}, wantErr: kernel.ErrNotV0, wantMsg: "encode request"},
		{name: "too_large", addr: "127.0.0.1:1", msg: kernel.SendEntries{Entries: blobs(t, "root_unsigned")}, wantErr: kernel.ErrMessageTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := client.Send(context.Background(), c.addr, c.version, c.msg)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("error %v does not wrap %v", err, c.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "http: send to "+c.addr+": "+c.wantMsg) {
				t.Errorf("error %q", err)
			}
		})
	}
}

// writeSelfSigned writes a fresh self-signed certificate for 127.0.0.1 and
// its key to dir and returns the two paths.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "eidsync test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	certFile, keyFile := writeSelfSigned(t, t.TempDir())
	_, addr := serve(t, httpadapter.Builder{TLSCertFile: certFile, TLSKeyFile: keyFile}, (&echoHandler{}).handle)
	entries := kernel.SendEntries{Entries: blobs(t, "root_unsigned", "child_left", "child_right")}

	t.Run("round_trip", func(t *testing.T) {
		client := build(t, httpadapter.Builder{TLS: true, InsecureSkipVerify: true}, kernel.DefaultWireLimits())
		for range 2 {
			reply, err := client.Send(context.Background(), addr, 0, entries)
			if err != nil {
				t.Fatal(err)
			}
			if reply != (kernel.Count{N: 3}) {
				t.Fatalf("reply %#v, want Count 3", reply)
			}
		}
	})
	t.Run("unknown_authority", func(t *testing.T) {
		client := build(t, httpadapter.Builder{TLS: true}, kernel.DefaultWireLimits())
		_, err := client.Send(context.Background(), addr, 0, entries)
		var uae x509.UnknownAuthorityError
		if !errors.As(err, &uae) {
			t.Errorf("Send to a self-signed peer without InsecureSkipVerify: %v, want an unknown-authority error", err)
		}
	})
	t.Run("plain_client", func(t *testing.T) {
		client := build(t, httpadapter.Builder{}, kernel.DefaultWireLimits())
		_, err := client.Send(context.Background(), addr, 0, entries)
		var se *httpadapter.StatusError
		if !errors.As(err, &se) || se.Code != nethttp.StatusBadRequest {
			t.Errorf("plain HTTP to a TLS server: %v, want a 400 StatusError", err)
		}
	})
	t.Run("tls_client_plain_server", func(t *testing.T) {
		_, plain := serve(t, httpadapter.Builder{}, (&echoHandler{}).handle)
		client := build(t, httpadapter.Builder{TLS: true, InsecureSkipVerify: true}, kernel.DefaultWireLimits())
		if _, err := client.Send(context.Background(), plain, 0, entries); err == nil {
			t.Error("TLS to a plain HTTP server succeeded")
		}
	})
}

func TestServeAddressInUse(t *testing.T) {
	_, addr := serve(t, httpadapter.Builder{}, (&echoHandler{}).handle)
	second := build(t, httpadapter.Builder{Bind: addr}, kernel.DefaultWireLimits())
	_, err := second.Serve((&echoHandler{}).handle)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("error %v does not wrap EADDRINUSE", err)
	}
	want := "http: listen on " + addr + ": address already in use: choose another --http address"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestServeLifecycle(t *testing.T) {
	h := (&echoHandler{}).handle
	tr := build(t, httpadapter.Builder{Bind: "127.0.0.1:0"}, kernel.DefaultWireLimits())
	ctx := context.Background()
	if err := tr.Close(ctx); err != nil {
		t.Fatalf("Close before Serve: %v", err)
	}
	if _, err := tr.Addr(); !errors.Is(err, httpadapter.ErrNotServing) {
		t.Errorf("Addr before Serve: %v", err)
	}
	addr, err := tr.Serve(h)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tr.Addr(); err != nil || got != addr {
		t.Errorf("Addr: %q, %v; want %q", got, err, addr)
	}
	if _, err := tr.Serve(h); !errors.Is(err, httpadapter.ErrServerRunning) {
		t.Errorf("second Serve: %v, want ErrServerRunning", err)
	}
	if err := tr.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Nothing listens after Close; Serve works again.
	if _, err := tr.Send(ctx, addr, 0, kernel.SendEntries{}); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Send after Close: %v, want connection refused", err)
	}
	addr2, err := tr.Serve(h)
	if err != nil {
		t.Fatal(err)
	}
	if reply, err := tr.Send(ctx, addr2, 0, kernel.SendEntries{}); err != nil || reply != (kernel.Ack{}) {
		t.Errorf("Send to itself after a restart: %#v, %v", reply, err)
	}
	if _, err := tr.Serve(nil); err == nil {
		t.Error("Serve(nil) succeeded")
	}

	clientOnly := build(t, httpadapter.Builder{}, kernel.DefaultWireLimits())
	if addr, err := clientOnly.Serve(h); addr != "" || err != nil {
		t.Errorf("client-only Serve: %q, %v; want a no-op", addr, err)
	}
	if err := clientOnly.Close(ctx); err != nil {
		t.Errorf("client-only Close: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	certFile, keyFile := writeSelfSigned(t, t.TempDir())
	zero := kernel.DefaultWireLimits()
	zero.MessageBytesMax = 0
	cases := []struct {
		name    string
		b       httpadapter.Builder
		limits  kernel.WireLimits
		wantMsg string
	}{
		{name: "zero_limits", limits: zero, wantMsg: "MessageBytesMax"},
		{name: "bad_bind", b: httpadapter.Builder{Bind: "8080"}, wantMsg: "bind address"},
		{name: "negative_timeout", b: httpadapter.Builder{RequestTimeout: -time.Second}, wantMsg: "request timeout"},
		{name: "cert_without_key", b: httpadapter.Builder{TLSCertFile: certFile}, wantMsg: "both a certificate file and a key file"},
		{name: "missing_cert", b: httpadapter.Builder{TLSCertFile: filepath.Join(t.TempDir(), "none.pem"), TLSKeyFile: keyFile}, wantMsg: "load TLS certificate"},
		{name: "key_as_cert", b: httpadapter.Builder{TLSCertFile: keyFile, TLSKeyFile: keyFile}, wantMsg: "load TLS certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.limits.MessageBytesMax == 0 && c.name != "zero_limits" {
				c.limits = kernel.DefaultWireLimits()
			}
			tr, err := c.b.Build(c.limits, nil)
			if err == nil {
				tr.Close(context.Background())
				t.Fatal("Build succeeded")
			}
			if !strings.HasPrefix(err.Error(), "http: ") || !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q, want one containing %q", err, c.wantMsg)
			}
		})
	}
}
