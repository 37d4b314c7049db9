// Package http is the HTTP transport (PROTOCOL.md 2.4): one endpoint,
// POST /api/v0, whose body is a JSON request and whose answer is a JSON
// response, always with status 200 when the node answered, even with an
// Error response. Statuses other than 200 come from this adapter, before
// the node sees the request, as the reference's framework gives them: 415
// for a content type that is not JSON, 400 for a body that is not JSON, 422
// for JSON of the wrong shape, 413 for a body over MessageBytesMax, 405 for
// another method and 404 for another path.
//
// The adapter is thin: it enforces the wire limits, decodes with the kernel's
// wire functions, calls the transport.Handler and encodes its reply. Unlike
// the reference client, which has no timeout (PROTOCOL.md 11.16), every
// connection, request and idle connection here has one, on both sides.
//
// Callers import the package as httpadapter.
package http
