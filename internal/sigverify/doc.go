// Package sigverify checks entry signatures faster than crypto/ed25519 and
// accepts exactly the same ones, for the transports' goroutines.
//
// The verification itself is entry.ExpandedKey's (curve25519-voi with
// VerifyOptionsStdLib, each signer's key kept decompressed with its
// multiplication tables; kernel/entry/expand.go says why it accepts what
// crypto/ed25519 accepts and no more). This package adds a key cache that
// many goroutines share, so that a bootstrap expands each writer's key once.
// Its tests hold the equivalence with crypto/ed25519 on the encodings that
// separate Ed25519 implementations.
//
// Batch verification (voi's BatchVerifier) is not used: it checks the
// cofactored equation, which accepts signatures crafted with small-order
// components that crypto/ed25519, and so every other node, refuses (voi
// documents VerifyOptionsStdLib as incompatible with batches). Such an entry
// would be stored here and refused everywhere else.
package sigverify
