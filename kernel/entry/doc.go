// Package entry is the Eidetica entry model, byte-compatible with the reference.
//
// An Entry is an immutable vertex of a tree's Merkle-DAG. Its ID is a CIDv1
// (codec dag-cbor, multihash BLAKE3-256) over the entry's canonical DAG-CBOR
// encoding, signature included, printed in multibase base32-lower so that every
// entry ID starts with "bafyr4i". The package covers PROTOCOL.md section 1:
//
//   - the data model (Entry, TreeNode, StoreNode, SigInfo, SigKey, KeyHint,
//     DelegationStep) and the entry metadata JSON (Metadata);
//   - a Builder that sorts and deduplicates parent lists in binary-CID order and
//     enforces the validation rules of section 1.1 plus this project's size limits;
//   - canonical DAG-CBOR encoding and a strict decoder that rejects any input whose
//     bytes are not exactly what the encoder would produce, with a specific error;
//   - IDs, their ordering (section 1.3) and their string form;
//   - Ed25519 keys as "ed25519:<base64>", signing bytes (the entry with sig.sig
//     removed), Sign and VerifySignature;
//   - the v0 JSON shape of an Entry (section 2.2), byte strings as arrays of integers.
//
// The package is pure: no I/O, no clock, no randomness, no goroutines. Callers
// supply key seeds and entropy.
//
// # Nil versus empty
//
// The reference distinguishes an absent byte string from an empty one (a store
// that "participates without data" versus one whose data is empty), and both
// forms hash differently. In this package a nil Bytes is absent and a non-nil
// Bytes of length zero is present and empty. Decoders preserve the distinction.
//
// # Received entries
//
// Only the Builder sorts. A decoded entry keeps its parent and store lists in the
// order received (PROTOCOL.md 12.2), because re-sorting would change its ID.
//
// # Dependencies
//
// CBOR comes from fxamacker/cbor (length-first canonical key order) and BLAKE3
// from zeebo/blake3. The CID and multibase handling is written here: the only
// CIDs produced are 36 fixed bytes, and the multiformats Go libraries register
// global hash tables at init, which the kernel's purity rule does not allow.
package entry
