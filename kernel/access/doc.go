// Package access decides who may read and write a tree: permissions and
// their order, and a tree's auth settings merged from the _settings stores
// of its entries (PROTOCOL.md 1.7).
//
// eidsync's _settings store is a JSON object; its "auth" member holds
//
//	{"keys":   {"ed25519:<base64>": {"name": "laptop", "permissions": {"Admin": 0}, "status": "Active"}},
//	 "global": {"permissions": "Read", "status": "Active"}}
//
// with the reference's Permission shapes ("Read", {"Write": n}, {"Admin": n}).
// Each entry's _settings is a partial update: every key it names, and the
// global grant if present, replaces the earlier value.
//
// The merge is a pure function of the set of settings entries, whatever
// order they arrived in, so that every replica of a tree computes the same
// permissions: updates are replayed in (depth, ID) order and each one counts
// only if its signer held Admin in the state replayed so far (the root's
// signer is the tree's first admin), and a grant is clamped to what its
// signer holds. Replaying from the start on every new settings entry is
// cheap because settings entries are few; Limits bounds them.
//
// Not modelled: the reference's CRDT Doc encoding of settings, delegations
// to other trees and pinned settings tips (an entry is judged against the
// tree's current settings).
package access
