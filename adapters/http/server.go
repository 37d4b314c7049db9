package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	nethttp "net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/transport"
)

// Router returns the server's handler alone, without a listener, for
// httptest and for embedding: POST /api/v0 answered by h, and one-line text
// errors for everything else.
func (t *Transport) Router(h transport.Handler) nethttp.Handler {
	r := chi.NewRouter()
	r.Use(t.recoverer)
	r.NotFound(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		t.refuse(w, r, nethttp.StatusNotFound, "http: no such path; the sync endpoint is POST "+Path)
	})
	r.MethodNotAllowed(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Allow", nethttp.MethodPost)
		t.refuse(w, r, nethttp.StatusMethodNotAllowed, "http: method "+r.Method+" not allowed; use POST")
	})
	r.Post(Path, t.serveAPI(h))
	return r
}

// serveAPI answers one request: the framework's checks in the reference's
// order (content type, body size, JSON syntax, shape), then the handler.
func (t *Transport) serveAPI(h transport.Handler) nethttp.HandlerFunc {
	limit := t.limits.MessageBytesMax
	return func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if !isJSONContentType(r.Header.Get("Content-Type")) {
			t.refuse(w, r, nethttp.StatusUnsupportedMediaType, "http: content type must be application/json")
			return
		}
		if r.ContentLength > int64(limit) {
			t.refuse(w, r, nethttp.StatusRequestEntityTooLarge, fmt.Sprintf("http: request body of %d bytes is over the limit of %d", r.ContentLength, limit))
			return
		}
		body, err := readBody(w, r, limit)
		if err != nil {
			var tooLarge *nethttp.MaxBytesError
			var netErr net.Error
			switch {
			case errors.As(err, &tooLarge):
				t.refuse(w, r, nethttp.StatusRequestEntityTooLarge, fmt.Sprintf("http: request body is over the limit of %d bytes", limit))
			case errors.As(err, &netErr) && netErr.Timeout():
				t.refuse(w, r, nethttp.StatusRequestTimeout, "http: request body not received in time")
			default:
				t.refuse(w, r, nethttp.StatusBadRequest, "http: read request body: "+oneLine(err.Error()))
			}
			return
		}
		if err := checkJSONSyntax(body); err != nil {
			t.refuse(w, r, nethttp.StatusBadRequest, "http: request body is not JSON: "+oneLine(err.Error()))
			return
		}
		msg, version, err := kernel.DecodeRequest(body, t.deferred())
		if err != nil {
			code := nethttp.StatusUnprocessableEntity // ErrMalformed, ErrUnknownVariant
			if errors.Is(err, kernel.ErrMessageTooLarge) {
				code = nethttp.StatusRequestEntityTooLarge
			}
			t.refuse(w, r, code, "http: bad request: "+oneLine(err.Error()))
			return
		}
		t.verifySignatures(msg)
		t.answer(w, r, h, version, msg)
	}
}

// answer calls the handler and writes its reply, whole or not at all.
func (t *Transport) answer(w nethttp.ResponseWriter, r *nethttp.Request, h transport.Handler, version uint32, msg kernel.Message) {
	ctx, cancel := context.WithTimeout(r.Context(), t.cfg.RequestTimeout)
	defer cancel()
	remote := "http:" + r.RemoteAddr
	reply, replyVersion, err := h(ctx, remote, version, msg)
	if err != nil {
		level := slog.LevelWarn
		if r.Context().Err() != nil {
			level = slog.LevelDebug // the caller hung up or the server is closing
		}
		t.log.Log(r.Context(), level, "http: handler could not answer", "remote", remote, "err", err)
		nethttp.Error(w, "http: the node cannot answer now; try again later", nethttp.StatusServiceUnavailable)
		return
	}
	if reply == nil || kernel.IsRequest(reply) {
		t.log.Error("http: handler returned no response", "remote", remote, "reply", fmt.Sprintf("%T", reply))
		nethttp.Error(w, "http: internal error: no response to send", nethttp.StatusInternalServerError)
		return
	}
	out, err := kernel.EncodeMessage(replyVersion, reply)
	if err == nil && len(out) > t.limits.MessageBytesMax {
		err = fmt.Errorf("%w: reply of %d bytes, limit %d", kernel.ErrMessageTooLarge, len(out), t.limits.MessageBytesMax)
	}
	if err != nil {
		t.log.Error("http: cannot encode reply", "remote", remote, "version", replyVersion, "reply", fmt.Sprintf("%T", reply), "err", err)
		nethttp.Error(w, "http: internal error: cannot encode the response", nethttp.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(nethttp.StatusOK)
	if _, err := w.Write(out); err != nil {
		t.log.Debug("http: write reply", "remote", remote, "err", err)
	}
}

// readBody reads the whole request body, at most limit bytes; over that it
// fails with a *MaxBytesError and the connection is closed after the answer.
func readBody(w nethttp.ResponseWriter, r *nethttp.Request, limit int) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 { // known and at most limit: checked by the caller
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(nethttp.MaxBytesReader(w, r.Body, int64(limit)))
	return buf.Bytes(), err
}

// refuse writes a one-line text error.
func (t *Transport) refuse(w nethttp.ResponseWriter, r *nethttp.Request, code int, text string) {
	t.log.Debug("http: refused request", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "status", code, "reason", text)
	nethttp.Error(w, text, code)
}

// recoverer turns a panic below it into a 500; none is expected, since
// network input never panics the wire decoder or this adapter.
func (t *Transport) recoverer(next nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == nethttp.ErrAbortHandler {
				panic(v)
			}
			t.log.Error("http: panic serving request", "remote", r.RemoteAddr, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			nethttp.Error(w, "http: internal error", nethttp.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// isJSONContentType accepts application/json with any parameters, and the
// application/*+json types that the reference's framework also accepts.
func isJSONContentType(v string) bool {
	if v == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// checkJSONSyntax tells a body that is not JSON at all (400) from JSON of
// the wrong shape (422), as serde_json's error categories do: invalid UTF-8
// is a syntax error there.
func checkJSONSyntax(body []byte) error {
	if !utf8.Valid(body) {
		return errors.New("invalid UTF-8")
	}
	if json.Valid(body) {
		return nil
	}
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return err
	}
	return errors.New("invalid JSON")
}

// oneLine clips s to one short line for a text error body.
func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	const limit = 300
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return s
}
