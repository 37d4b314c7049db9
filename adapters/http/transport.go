package http

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"sync"
	"syscall"
	"time"

	"github.com/eidsync/eidsync/internal/sigverify"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/transport"
)

// Path is the single endpoint of protocol version 0.
const Path = "/api/v0"

// Defaults for the Builder's zero durations.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultRequestTimeout = 60 * time.Second
	DefaultIdleTimeout    = 90 * time.Second
)

const (
	maxHeaderBytes      = 64 << 10 // request and response headers
	maxIdleConnsPerHost = 16
	maxIdleConns        = 256
	statusBodyMax       = 200 // bytes of a peer's error body kept in a StatusError
)

// Errors of the server's life cycle.
var (
	// ErrServerRunning reports a second Serve without a Close in between.
	ErrServerRunning = errors.New("http: server already running")
	// ErrNotServing reports a question about the server (Addr) while it is
	// not serving.
	ErrNotServing = errors.New("http: server not running")
)

// StatusError reports a peer that answered with a status other than 2xx:
// the framework refused the request (415, 400, 422, 413, ...) or the peer's
// node could not answer (503). Body holds the start of the peer's answer.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("http: peer answered %d", e.Code)
	}
	return fmt.Sprintf("http: peer answered %d: %s", e.Code, e.Body)
}

// Builder configures the HTTP transport. The zero durations take the
// defaults above.
type Builder struct {
	Bind               string        // host:port to listen on; "" = client only (Serve is then a no-op returning "")
	TLSCertFile        string        // both set: serve HTTPS; the client then dials https://
	TLSKeyFile         string        //
	ConnectTimeout     time.Duration // dial and TLS handshake, and a server's wait for request headers; default 5s
	RequestTimeout     time.Duration // whole request incl. body, both sides; default 60s
	IdleTimeout        time.Duration // keep-alive idle; default 90s
	InsecureSkipVerify bool          // tests with self-signed certs only
	TLS                bool          // client side: use https:// even without a local cert (dialing a TLS peer)
}

var _ transport.Builder = Builder{}

// Build checks the configuration, loads the TLS certificate if one is set
// and returns a *Transport that does not listen yet. log may be nil.
func (b Builder) Build(limits kernel.WireLimits, log *slog.Logger) (transport.Transport, error) {
	return b.build(limits, log)
}

func (b Builder) build(limits kernel.WireLimits, log *slog.Logger) (*Transport, error) {
	if limits.MessageBytesMax <= 0 {
		return nil, fmt.Errorf("http: limits.MessageBytesMax is %d; it must be positive", limits.MessageBytesMax)
	}
	if b.Bind != "" {
		if _, _, err := net.SplitHostPort(b.Bind); err != nil {
			return nil, fmt.Errorf("http: bind address %q: want host:port: %w", b.Bind, err)
		}
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"connect", &b.ConnectTimeout, DefaultConnectTimeout},
		{"request", &b.RequestTimeout, DefaultRequestTimeout},
		{"idle", &b.IdleTimeout, DefaultIdleTimeout},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("http: %s timeout is %v; it must not be negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if (b.TLSCertFile == "") != (b.TLSKeyFile == "") {
		return nil, errors.New("http: TLS needs both a certificate file and a key file")
	}
	var cert *tls.Certificate
	if b.TLSCertFile != "" {
		c, err := tls.LoadX509KeyPair(b.TLSCertFile, b.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("http: load TLS certificate %s and key %s: %w", b.TLSCertFile, b.TLSKeyFile, err)
		}
		cert = &c
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Transport{cfg: b, limits: limits, log: log, cert: cert, scheme: "http"}
	if cert != nil || b.TLS {
		t.scheme = "https"
	}
	t.client = t.newClient()
	return t, nil
}

// Transport is the HTTP transport: a client (Send) and, once Serve is
// called, a server. It is safe for concurrent use.
type Transport struct {
	cfg    Builder // with defaults applied
	limits kernel.WireLimits
	log    *slog.Logger
	cert   *tls.Certificate // nil: plain HTTP server
	scheme string           // the client's: http or https

	client *nethttp.Client // shared by every Send
	// verifier checks entry signatures on the transport's goroutines
	// (verify.go), keeping each signer's expanded key.
	verifier sigverify.Verifier

	mu     sync.Mutex // guards the server's life cycle below
	srv    *nethttp.Server
	addr   string             // bound address while serving
	stop   context.CancelFunc // cancels every request's context
	served chan struct{}      // closed when the serving goroutine returns
}

var _ transport.Transport = (*Transport)(nil)

// Serve binds the configured address, starts serving in a goroutine and
// returns the address bound (so that port 0 gives the port chosen). With no
// Bind it does nothing and returns "". A second Serve before Close returns
// ErrServerRunning.
func (t *Transport) Serve(h transport.Handler) (string, error) {
	if h == nil {
		return "", errors.New("http: Serve needs a handler")
	}
	if t.cfg.Bind == "" {
		return "", nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.srv != nil {
		return "", ErrServerRunning
	}
	ln, err := net.Listen("tcp", t.cfg.Bind)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return "", fmt.Errorf("http: listen on %s: %w: choose another --http address", t.cfg.Bind, syscall.EADDRINUSE)
		}
		return "", fmt.Errorf("http: listen on %s: %w", t.cfg.Bind, err)
	}
	base, stop := context.WithCancel(context.Background())
	srv := &nethttp.Server{
		Handler:                      t.Router(h),
		ReadHeaderTimeout:            t.cfg.ConnectTimeout,
		ReadTimeout:                  t.cfg.RequestTimeout,
		WriteTimeout:                 t.cfg.RequestTimeout + t.cfg.ConnectTimeout, // the handler may use all of RequestTimeout, then write
		IdleTimeout:                  t.cfg.IdleTimeout,
		MaxHeaderBytes:               maxHeaderBytes,
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     slog.NewLogLogger(t.log.Handler(), slog.LevelDebug),
		BaseContext:                  func(net.Listener) context.Context { return base },
	}
	if t.cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*t.cert}, MinVersion: tls.VersionTLS12}
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		var err error
		if t.cert != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, nethttp.ErrServerClosed) {
			t.log.Error("http: server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	t.srv, t.addr, t.stop, t.served = srv, ln.Addr().String(), stop, served
	t.log.Info("http: serving", "addr", t.addr, "tls", t.cert != nil)
	return t.addr, nil
}

// Addr returns the address bound by Serve, or ErrNotServing.
func (t *Transport) Addr() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.srv == nil {
		return "", ErrNotServing
	}
	return t.addr, nil
}

// Close stops the server gracefully: it stops accepting, waits for requests
// in progress until ctx ends, then closes what is left and cancels the
// contexts of the requests still running. It waits for the serving
// goroutine and drops the client's idle connections. Close when not serving
// only drops the idle connections and returns nil; Serve may be called again
// after Close.
func (t *Transport) Close(ctx context.Context) error {
	defer t.client.CloseIdleConnections()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.srv == nil {
		return nil
	}
	srv, addr, stop, served := t.srv, t.addr, t.stop, t.served
	t.srv, t.addr, t.stop, t.served = nil, "", nil, nil

	err := srv.Shutdown(ctx)
	stop()
	if err != nil {
		err = fmt.Errorf("http: close %s: requests still running: %w", addr, err)
		if cerr := srv.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("http: close %s: %w", addr, cerr))
		}
	}
	<-served // Serve returns as soon as Shutdown or Close has closed the listener
	t.log.Info("http: stopped", "addr", addr)
	return err
}
