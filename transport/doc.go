// Package transport is the seam between the node's driver loop and the
// network adapters (adapters/http, adapters/quic). It holds interfaces only,
// so that an adapter and the root package agree on them without importing
// each other.
//
// A transport does two jobs: as a client it sends one request and returns
// the reply; as a server it decodes each inbound request, hands it to the
// Handler and writes back what the Handler returns. Messages are encoded
// and decoded with kernel.EncodeMessage, kernel.DecodeRequest and
// kernel.DecodeResponse under the limits given at Build.
package transport
