// Package sigverify checks entry signatures faster than crypto/ed25519 and
// accepts exactly the same ones.
//
// It uses curve25519-voi's Ed25519 with VerifyOptionsStdLib (cofactorless
// equation, canonical R and S, non-canonical and small-order A and small-order
// R allowed, as crypto/ed25519 does) and keeps each signer's public key in
// expanded form (decompressed, with its multiplication table), which a
// bootstrap reuses for every entry of the same writer. A signature it
// rejects is checked again with crypto/ed25519, so a disagreement can only
// cost time, never refuse a valid entry.
//
// Batch verification (voi's BatchVerifier) is not used: it checks the
// cofactored equation, which accepts signatures crafted with small-order
// components that crypto/ed25519, and so every other node, refuses (voi
// documents VerifyOptionsStdLib as incompatible with batches). Such an entry
// would be stored here and refused everywhere else.
package sigverify
