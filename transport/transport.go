package transport

import (
	"context"
	"log/slog"

	"github.com/eidsync/eidsync/kernel"
)

// Handler answers one inbound request. remote names the caller for logs and
// for the kernel's PeerID of an inbound request; version is the protocol
// version the request implies (kernel.DecodeRequest). It returns the reply
// and the version to encode it at. An error means no reply could be made
// (the node is closing, the context ended); the transport answers with a
// server error and never with a partial body.
type Handler func(ctx context.Context, remote string, version uint32, msg kernel.Message) (kernel.Message, uint32, error)

// Transport is one registered transport.
type Transport interface {
	// Send sends msg to address at version and returns the decoded reply.
	// It honours ctx and the transport's own connect and request timeouts.
	Send(ctx context.Context, address string, version uint32, msg kernel.Message) (kernel.Message, error)
	// Serve starts accepting connections on the configured bind address and
	// returns the address actually bound. Nothing listens before Serve.
	Serve(h Handler) (string, error)
	// Close stops serving and drops idle connections, waiting for requests
	// in progress until ctx ends.
	Close(ctx context.Context) error
}

// Builder makes a Transport. Adapters provide one (http.Builder{Bind: ...}).
type Builder interface {
	Build(limits kernel.WireLimits, log *slog.Logger) (Transport, error)
}
