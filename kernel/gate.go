package kernel

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

// This file holds the gates of PROTOCOL.md 4.1 and 8, closing 11.2 and
// 11.3: a tree's permissions come from its _settings entries (package
// access); a request that reads a tree which is not world-readable, or
// writes one which is not world-writable, must carry request auth (auth.go)
// whose key holds the permission; entries are pushed only to peers whose
// handshake-proven key may read the tree.

// noteSettings merges the auth of a stored entry's _settings store.
// Malformed auth changes nothing, on every replica alike.
func (t *tree) noteSettings(b Blob, depth uint32) {
	if st := b.Entry.Store(entry.StoreSettings); st != nil {
		t.mergeSettings(b.ID, b.Entry.Sig.Key.Hint.PubKey, depth, st.Data)
	}
}

// mergeSettings merges one entry's _settings data; depth 0 is the root.
func (t *tree) mergeSettings(id entry.ID, signer entry.PublicKey, depth uint32, data []byte) {
	if len(data) == 0 {
		return
	}
	u, ok, err := access.ParseUpdate(depth, id, signer, depth == 0, data)
	if err != nil || !ok {
		return
	}
	if t.auth == nil {
		t.auth = access.NewSettings(access.DefaultLimits())
	}
	t.auth.Add(u)
}

// Permissions returns the settings of tree, or nil when the machine does
// not hold it or it has no auth (anyone may read and write it).
func (m *Machine) Permissions(tree entry.ID) *access.Settings {
	if t := m.trees[tree]; t != nil {
		return t.auth
	}
	return nil
}

// readPerm is what reading needs.
var readPerm = access.PermRead

// writePerm is the weakest Write: what pushing entries needs.
var writePerm = access.PermWrite(^uint32(0))

// adminPerm is the weakest Admin: what changing a tree's settings needs.
var adminPerm = access.PermAdmin(^uint32(0))

// refusal texts, the reference's where it has one (PROTOCOL.md 4.2).
const (
	textAuthRequired = "Authentication required: this database does not let everyone %s it; sign the request with a key it grants"
	textAuthFailed   = "Authentication failed: "
	textDenied       = "Permission denied: "
)

// authorize checks that a request on t may do what need asks. An open tree
// needs nothing. Otherwise the auth must verify for this server over the
// request's own fields, be fresh and unspent, and its key must hold need.
// It returns the refusal to answer with, or "" and whether the caller must
// park the request until the nonce floor is durable (nonces.go).
func (m *Machine) authorize(settings *access.Settings, root entry.ID, need access.Permission, msg Message) (refusal string, park bool) {
	if settings.Open(need) {
		return "", false
	}
	verb := "read"
	if need.Level >= access.Write {
		verb = "write"
	}
	auth := requestAuthOf(msg)
	if auth == nil {
		return fmt.Sprintf(textAuthRequired, verb), false
	}
	if err := m.verifyAuth(auth, msg); err != nil {
		return textAuthFailed + err.Error(), false
	}
	if !settings.Can(auth.Key, need) {
		return fmt.Sprintf("%skey %s may not %s tree %s", textDenied, auth.Key, verb, root), false
	}
	return m.spendNonce(auth)
}

func requestAuthOf(msg Message) *RequestAuth {
	switch msg := msg.(type) {
	case SyncTree:
		return msg.Auth
	case GetEntries:
		return msg.Auth
	case SendEntries:
		return msg.Auth
	}
	return nil
}

// mayPush reports whether the peer may receive t's entries: t is
// world-readable, or the key the peer proved in the handshake may read it.
// A peer never handshaken has proved nothing.
func (m *Machine) mayPush(t *tree, p *peer) bool {
	if canaryPushToNonReader || t.auth.Open(readPerm) {
		return true
	}
	return p.handshaken && t.auth.Can(p.key, readPerm)
}

// mayWrite reports whether this node's key may push entries of t.
func (m *Machine) mayWrite(t *tree) bool {
	return t.auth.Open(writePerm) || t.auth.Can(m.cfg.DeviceKey.Public(), writePerm)
}

// signed returns msg with request auth for peer p, bound to the key p
// proved in the handshake. A request is signed when the tree needs it
// here: it is not world-readable (or writable, for a push), or we do not
// hold it yet (a bootstrap, whose settings we cannot know). The peer may
// hold newer settings than ours: once it refuses an unsigned request for
// want of auth, every SyncTree to it is signed (p.signAll, session_sync.go
// asks again at once). NB: signing costs an Ed25519 signature, a fifth of
// the kernel's time in the simulator when every SyncTree was signed. A v0
// peer gets auth only on SyncTree, the one request whose v0 form has room
// for it.
func (m *Machine) signed(p *peer, msg Message) Message {
	if !p.handshaken {
		return msg
	}
	t := m.trees[treeOf(msg)]
	switch msg := msg.(type) {
	case SyncTree:
		if p.signAll || t == nil || t.dag.Len() == 0 || !t.auth.Open(readPerm) {
			msg.Auth = m.sign(p, msg)
		}
		return msg
	case GetEntries:
		if p.version >= ProtocolV1 && t != nil && !t.auth.Open(readPerm) {
			msg.Auth = m.sign(p, msg)
		}
		return msg
	case SendEntries:
		if p.version >= ProtocolV1 && t != nil && !t.auth.Open(writePerm) {
			msg.TreeID = t.root
			msg.Auth = m.sign(p, msg)
		}
		return msg
	}
	return msg
}

func treeOf(msg Message) entry.ID {
	switch msg := msg.(type) {
	case SyncTree:
		return msg.TreeID
	case GetEntries:
		return msg.TreeID
	case SendEntries:
		if !msg.TreeID.IsZero() {
			return msg.TreeID
		}
		if len(msg.Entries) > 0 {
			return msg.Entries[0].Entry.TreeID(msg.Entries[0].ID)
		}
	}
	return entry.ID{}
}

// sign makes the auth of msg for peer p with the device key, stamped with
// the driver's clock and a nonce from the machine's PRNG.
func (m *Machine) sign(p *peer, msg Message) *RequestAuth {
	nonce := make([]byte, nonceBytes)
	m.authRNG.fill(nonce)
	ts := uint64(max(m.nowMs, p.stampAfter+1, 0))
	domain, tree, ids := authFields(msg)
	sig := m.cfg.DeviceKey.Sign(requestBytes(domain, p.key, tree, ids, ts, nonce))
	return &RequestAuth{Key: m.cfg.DeviceKey.Public(), TimestampMs: ts, Nonce: nonce, Signature: sig}
}

// writeGate checks a push against the write permission of every tree its
// entries name: a tree held here by its settings, a tree not held by the
// settings of its root when the push carries it (an unsolicited new tree,
// PROTOCOL.md 3.4). A tree that is not world-writable needs the push to be
// authenticated (v1 PushEntries) for exactly that tree. The whole push is
// refused if any tree refuses it, so a refusal stores nothing.
func (m *Machine) writeGate(ev Received, msg SendEntries) bool {
	var gated []entry.ID
	seen := map[entry.ID]bool{}
	for _, b := range msg.Entries {
		tree := b.Entry.TreeID(b.ID)
		if seen[tree] {
			continue
		}
		seen[tree] = true
		if !msg.TreeID.IsZero() && tree != msg.TreeID {
			m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: fmt.Sprintf(
				"Invalid request: entry %s belongs to tree %s, not to the pushed tree %s", b.ID, tree, msg.TreeID)})
			return false
		}
		gated = append(gated, tree)
	}
	for _, tree := range gated {
		if !m.gateSettings(ev, m.pushSettings(tree, msg.Entries), tree, writePerm) {
			return false
		}
	}
	return true
}

// pushSettings returns the settings a push to tree is judged by.
func (m *Machine) pushSettings(root entry.ID, blobs []Blob) *access.Settings {
	t := m.trees[root]
	if t != nil && t.dag.Len() > 0 {
		return t.auth
	}
	if t != nil {
		// NB: the root is on its way to the store (a bootstrap being
		// written): its settings already bind pushes, which would
		// otherwise find a tree with no auth and pass.
		if s, ok := t.inflight[root]; ok {
			blobs = append(slices.Clip(blobs), m.writes[s].blobs...)
		}
	}
	for _, b := range blobs {
		if b.ID == root && b.Entry.IsRoot() {
			t := &tree{}
			t.noteSettings(b, 0)
			return t.auth
		}
	}
	return nil
}

// stampAfter reads the floor out of a refusal for a stamp below it.
func stampAfter(msg string) (int64, bool) {
	_, num, ok := strings.Cut(msg, textStampAfter)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(num, 10, 64)
	return v, err == nil && v > 0
}

// writeView judges the entries of one ingest against the write permission
// of their signers (closing the pull path of 11.3: a reader's entry pulled
// by a writer, or relayed by anyone, is refused like a reader's push). The
// settings entries earlier in the same message count, so that a grant and
// the grantee's first entries can travel together: per tree, a copy of the
// stored settings with those updates merged, at the depth their parents
// give.
type writeView map[entry.ID]*treeWriteView

type treeWriteView struct {
	settings *access.Settings    // nil until this message changes the settings
	depth    map[entry.ID]uint32 // depth of this message's entries
}

// check refuses b unless its tree lets everyone write, b is the root (it
// defines the tree), or b is signed by a key that may write.
func (v writeView) check(t *tree, b Blob) error {
	tv := v[t.root]
	if tv == nil {
		tv = &treeWriteView{depth: map[entry.ID]uint32{}}
		v[t.root] = tv
	}
	settings := t.auth
	if tv.settings != nil {
		settings = tv.settings
	}
	depth, placed := tv.depthOf(t, b)
	if placed {
		tv.depth[b.ID] = depth
	}
	signer := b.Entry.Sig.Key.Hint.PubKey
	switch {
	case b.Entry.IsRoot() || settings.Open(writePerm):
	case b.Entry.Sig.Sig == "" || signer.IsZero():
		return fmt.Errorf("%w: entry %s of tree %s is unsigned, and the tree does not let everyone write", ErrInvalidEntry, b.ID, t.root)
	case !settings.Can(signer, writePerm):
		return fmt.Errorf("%w: entry %s is signed by key %s, which may not write tree %s", ErrInvalidEntry, b.ID, signer, t.root)
	}
	// NB: the root's settings count too: in a bootstrap the root and the
	// entries it governs arrive together, before anything is stored.
	if st := b.Entry.Store(entry.StoreSettings); st != nil && placed {
		if u, ok, err := access.ParseUpdate(depth, b.ID, signer, b.Entry.IsRoot(), st.Data); err == nil && ok {
			// NB: a settings change is refused unless its signer is an
			// admin now. The merge would ignore it anyway, but stored it
			// would take one of the tree's UpdatesMax slots (a writer
			// could crowd out later changes, revocations included), and
			// one backdated by a demoted admin (old parents) would count
			// wherever it is merged before the demotion.
			if !b.Entry.IsRoot() && !settings.Open(adminPerm) && !settings.Can(signer, adminPerm) {
				return fmt.Errorf("%w: entry %s changes the settings of tree %s, and its key %s is not an admin of it",
					ErrInvalidEntry, b.ID, t.root, signer)
			}
			if tv.settings == nil {
				tv.settings = settings.Clone()
				if tv.settings == nil {
					tv.settings = access.NewSettings(access.DefaultLimits())
				}
			}
			tv.settings.Add(u)
		}
	}
	return nil
}

// depthOf is b's depth in the tree when its parents are stored or earlier
// in the message (a root is 0).
func (tv *treeWriteView) depthOf(t *tree, b Blob) (uint32, bool) {
	var d uint32
	for _, p := range b.Entry.Tree.Parents {
		if n, ok := t.dag.Lookup(p); ok {
			d = max(d, t.dag.Depth(n)+1)
		} else if pd, ok := tv.depth[p]; ok {
			d = max(d, pd+1)
		} else {
			return 0, false
		}
	}
	return d, true
}
