package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eidsync/eidsync/kernel"
)

// newClient makes the client shared by every Send: bounded dial, TLS
// handshake, wait for headers and idle time; no proxy and no redirects,
// since a peer is dialled directly at the address it gave.
func (t *Transport) newClient() *nethttp.Client {
	dialer := &net.Dialer{Timeout: t.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	rt := &nethttp.Transport{
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    t.cfg.ConnectTimeout,
		ResponseHeaderTimeout:  t.cfg.RequestTimeout + time.Second, // a backstop: the request's context ends first
		IdleConnTimeout:        t.cfg.IdleTimeout,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    maxIdleConnsPerHost,
		MaxResponseHeaderBytes: maxHeaderBytes,
		ForceAttemptHTTP2:      true,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: t.cfg.InsecureSkipVerify, // tests with self-signed certificates only
		},
	}
	return &nethttp.Client{
		Transport: rt,
		CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error {
			return nethttp.ErrUseLastResponse // a redirect is a non-2xx answer
		},
	}
}

// Send posts msg, encoded at version, to address (host:port) and returns the
// decoded reply. It gives up after RequestTimeout, or earlier if ctx ends.
// Errors name the address; a non-2xx answer is a *StatusError, an answer
// that does not decode wraps the kernel's wire error.
func (t *Transport) Send(ctx context.Context, address string, version uint32, msg kernel.Message) (kernel.Message, error) {
	m, err := t.send(ctx, address, version, msg)
	if err != nil {
		return nil, &sendError{addr: address, err: err}
	}
	return m, nil
}

func (t *Transport) send(ctx context.Context, address string, version uint32, msg kernel.Message) (kernel.Message, error) {
	if _, _, err := net.SplitHostPort(address); err != nil || strings.ContainsAny(address, "/?#@") {
		return nil, errors.New("address must be host:port")
	}
	body, err := kernel.EncodeMessage(version, msg)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	limit := t.limits.MessageBytesMax
	if len(body) > limit {
		return nil, fmt.Errorf("%w: request of %d bytes, limit %d", kernel.ErrMessageTooLarge, len(body), limit)
	}
	u := url.URL{Scheme: t.scheme, Host: address, Path: Path}
	reqCtx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	req, err := nethttp.NewRequestWithContext(reqCtx, nethttp.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := t.client.Do(req)
	if err != nil {
		return nil, t.explain(ctx, reqCtx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, statusBodyMax))
		return nil, &StatusError{Code: resp.StatusCode, Body: clipBody(head)}
	}
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= int64(limit) {
		buf.Grow(int(n) + bytes.MinRead) // NB: one allocation for a bootstrap batch, not a doubling series
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, int64(limit)+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read response: %w", t.explain(ctx, reqCtx, err))
	}
	if len(data) > limit {
		return nil, fmt.Errorf("peer answered more than %d bytes: %w", limit, kernel.ErrMessageTooLarge)
	}
	reply, err := kernel.DecodeResponse(data, t.deferred())
	if err != nil {
		return nil, fmt.Errorf("peer answered garbage: %w", err)
	}
	t.verifySignatures(reply)
	return reply, nil
}

// explain strips the client's "Post URL" wrapper (the address is named
// once, by sendError) and says when the request ran out of time.
func (t *Transport) explain(ctx, reqCtx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() == nil && errors.Is(reqCtx.Err(), context.DeadlineExceeded) {
		if !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
		}
		return fmt.Errorf("no answer within %v: %w", t.cfg.RequestTimeout, err)
	}
	return err
}

// clipBody keeps the start of an error body as one line of valid UTF-8.
func clipBody(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}

// sendError names the address a Send failed for, once: "http: send to
// 127.0.0.1:8080: peer answered 413: ...".
type sendError struct {
	addr string
	err  error
}

func (e *sendError) Error() string {
	return "http: send to " + e.addr + ": " + strings.TrimPrefix(e.err.Error(), "http: ")
}

func (e *sendError) Unwrap() error { return e.err }
