package kernel

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Manual bootstrap approval (PROTOCOL.md 4.2, 4.3, closing 11.4). A
// bootstrap that names a requesting key and a permission, on a tree its
// auth does not let read, is queued: the asker gets BootstrapPending with
// the request's ID, once the request is durable. An admin of the tree
// decides (Decide): approving commits a _settings entry granting the key
// the permission asked, clamped to what the approver holds; rejecting is
// remembered, so the same key asking again is told so instead of queueing
// anew, and a key asking again while pending gets the same ID. The asker's
// next sync passes the read gate once the grant is stored.
//
// The registry is bounded (ApprovalsMax): at the limit the oldest decided
// record is forgotten first; when every record is pending, new requests are
// refused until some is decided.

// ApprovalStatus is a request's state.
type ApprovalStatus uint8

// Request states.
const (
	ApprovalPending ApprovalStatus = 1 + iota
	ApprovalApproved
	ApprovalRejected
)

var approvalNames = [...]string{"?", "Pending", "Approved", "Rejected"}

func (s ApprovalStatus) String() string {
	if int(s) < len(approvalNames) {
		return approvalNames[s]
	}
	return "ApprovalStatus(?)"
}

// ApprovalRequest is one bootstrap request, as listed and as persisted.
type ApprovalRequest struct {
	ID        string
	Tree      entry.ID
	Key       entry.PublicKey
	KeyName   string
	Requested Permission
	Metadata  []byte // the asker's JSON object, or nil
	From      PeerID
	AtMs      int64
	Status    ApprovalStatus
	// Set once decided.
	Granted     Permission // approved: what the grant says (clamped)
	DecidedBy   entry.PublicKey
	DecidedAtMs int64
	// seq orders records by arrival, for eviction; restored from State's
	// order. deciding is set while a decision's writes are in flight, so
	// that a second Decide cannot make a second decision.
	seq      uint64
	deciding bool
}

// Decide approves or rejects a pending request as this node's device key.
// A NoticeDecided with Ref follows: Err says why it was refused (unknown
// request, not pending, the device key is not an admin of the tree).
type Decide struct {
	Ref     Ref
	ID      string
	Approve bool
}

func (Decide) isEvent() {}

// approvals is the registry. byID holds durable records only, so that
// what Approvals lists and Decide acts on survives a crash. A new request
// is in adding until its Write (which also deletes the record it evicts)
// is durable; the same key asking meanwhile waits for the same answer.
type approvals struct {
	byID    map[string]*ApprovalRequest
	adding  []*adding
	nextSeq uint64
}

type adding struct {
	rec     *ApprovalRequest
	evicts  string // the record the Write deletes, or ""
	waiting []Received
}

// Approvals lists the registry, oldest first.
func (m *Machine) Approvals() []ApprovalRequest {
	out := make([]ApprovalRequest, 0, len(m.approvals.byID))
	for _, r := range m.approvals.byID {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ApprovalRequest) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

func (m *Machine) restoreApprovals(recs []ApprovalRequest) {
	m.approvals.byID = map[string]*ApprovalRequest{}
	for _, rec := range recs {
		r := rec
		m.approvals.nextSeq++
		r.seq = m.approvals.nextSeq
		m.approvals.byID[r.ID] = &r
	}
}

// requestBootstrap answers a bootstrap the read gate refused, when it asks
// for a key to be approved: the request is queued (or found) and the
// asker is told its ID. It reports false when the SyncTree asks for no
// approval, so the refusal stands.
func (m *Machine) requestBootstrap(ev Received, t *tree, msg SyncTree) bool {
	if len(msg.OurTips) != 0 || msg.Resume != nil || msg.RequestingKey.IsZero() || msg.RequestedPermission == nil ||
		msg.RequestingKeyName == nil || *msg.RequestingKeyName == "" {
		return false
	}
	// NB: the request must prove the requesting key: a key named by
	// anyone could otherwise be queued, its real request answered with
	// that ID, or locked out by a rejection of the spoof.
	if msg.Auth == nil || msg.Auth.Key != msg.RequestingKey {
		m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: "Authentication required: a bootstrap request must be signed by the requesting key"})
		return true
	}
	if err := m.verifyAuth(msg.Auth, msg); err != nil {
		m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: textAuthFailed + err.Error()})
		return true
	}
	if refusal, park := m.spendNonce(msg.Auth); !m.proceed(ev, refusal, park) {
		return true
	}
	reg := &m.approvals
	for _, a := range reg.adding {
		if a.rec.Tree == t.root && a.rec.Key == msg.RequestingKey {
			a.waiting = append(a.waiting, ev)
			return true
		}
	}
	for _, r := range m.Approvals() {
		if r.Tree != t.root || r.Key != msg.RequestingKey {
			continue
		}
		switch r.Status {
		case ApprovalPending:
			m.reply(ev.From, ev.Req, ev.Version, pendingReply(r.ID))
			return true
		case ApprovalRejected:
			m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: "Bootstrap request rejected: " + r.ID +
				"; an admin of the database must approve the key"})
			return true
		}
	}
	evicts, ok := m.roomForRequest()
	if !ok {
		m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: fmt.Sprintf(
			"Busy: %d bootstrap requests are pending approval; retry once an admin has decided some", len(reg.byID)+len(reg.adding))})
		return true
	}
	id := make([]byte, 16)
	m.authRNG.fill(id)
	reg.nextSeq++
	a := &adding{evicts: evicts, waiting: []Received{ev}, rec: &ApprovalRequest{ID: hex.EncodeToString(id), Tree: t.root,
		Key: msg.RequestingKey, KeyName: *msg.RequestingKeyName, Requested: *msg.RequestedPermission, Metadata: msg.Metadata,
		From: ev.From, AtMs: m.nowMs, Status: ApprovalPending, seq: reg.nextSeq}}
	reg.adding = append(reg.adding, a)
	recs := []ApprovalRequest{*a.rec}
	if evicts != "" {
		recs = append([]ApprovalRequest{{ID: evicts}}, recs...)
	}
	s := m.nextSeq()
	m.writes[s] = &pendingWrite{after: func(failure string) { m.added(a, failure) }}
	m.ready.Persist = append(m.ready.Persist, Write{Seq: s, Approvals: recs})
	return true
}

// added completes a new request's Write: the record (and the eviction)
// take effect, and every asker waiting gets the ID, or the failure.
func (m *Machine) added(a *adding, failure string) {
	reg := &m.approvals
	reg.adding = slices.DeleteFunc(reg.adding, func(x *adding) bool { return x == a })
	if failure == "" {
		delete(reg.byID, a.evicts)
		reg.byID[a.rec.ID] = a.rec
		if canaryApproveWithoutRequest {
			_ = m.decide(Decide{ID: a.rec.ID, Approve: true}) // no admin asked for this
		}
	}
	for _, ev := range a.waiting {
		if failure != "" {
			m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: "Storage failure: " + failure})
			continue
		}
		m.reply(ev.From, ev.Req, ev.Version, pendingReply(a.rec.ID))
	}
}

func pendingReply(id string) BootstrapPending {
	return BootstrapPending{RequestID: id, Message: "Bootstrap request pending manual approval"}
}

// roomForRequest keeps the registry under ApprovalsMax: it names the
// oldest decided record for the new request's Write to delete (none is
// needed below the limit); false when every record is pending, being
// decided, or already being evicted.
func (m *Machine) roomForRequest() (evicts string, ok bool) {
	reg := &m.approvals
	if len(reg.byID)+len(reg.adding) < m.cfg.ApprovalsMax {
		return "", true
	}
	for _, r := range m.Approvals() {
		leaving := slices.ContainsFunc(reg.adding, func(a *adding) bool { return a.evicts == r.ID })
		if r.Status != ApprovalPending && !leaving {
			return r.ID, true
		}
	}
	return "", false
}

// persistApproval writes r's record; then runs done with the failure, if any.
func (m *Machine) persistApproval(r *ApprovalRequest, done func(failure string)) {
	s := m.nextSeq()
	m.writes[s] = &pendingWrite{after: done}
	m.ready.Persist = append(m.ready.Persist, Write{Seq: s, Approvals: []ApprovalRequest{*r}})
}

// decide handles Decide: approve by committing the grant, then recording
// the decision; reject by recording it.
func (m *Machine) decide(ev Decide) error {
	r := m.approvals.byID[ev.ID]
	refuse := func(why string) error {
		m.notify(Notice{Kind: NoticeDecided, Ref: ev.Ref, Err: why})
		return nil
	}
	if r == nil {
		return refuse("Bootstrap request not found: " + ev.ID)
	}
	if r.Status != ApprovalPending {
		return refuse(fmt.Sprintf("Bootstrap request %s is already %v", r.ID, r.Status))
	}
	if r.deciding {
		return refuse(fmt.Sprintf("Bootstrap request %s is already being decided", r.ID))
	}
	t := m.trees[r.Tree]
	me := m.cfg.DeviceKey.Public()
	if t == nil || t.auth == nil || !t.auth.Can(me, adminPerm) {
		return refuse(fmt.Sprintf("Insufficient permission: this node's key %s is not an admin of %s", me, r.Tree))
	}
	decided := *r
	decided.DecidedBy, decided.DecidedAtMs, decided.deciding = me, m.nowMs, false
	r.deciding = true
	if !ev.Approve {
		decided.Status = ApprovalRejected
		m.recordDecision(ev.Ref, &decided)
		return nil
	}
	decided.Status = ApprovalApproved
	decided.Granted = r.Requested.Clamp(t.auth.Permission(me))
	grant, err := m.grantEntry(t, &decided)
	if err != nil {
		return refuse("building the grant failed: " + err.Error())
	}
	// NB: the grant and the record are two writes, in this order: a crash
	// between them leaves the grant stored and the request pending, which
	// the asker's next sync already passes; deciding again is harmless.
	s := m.write(t, []Blob{grant}, nil)
	m.writes[s].after = func(failure string) {
		if failure != "" {
			r.deciding = false
			m.notify(Notice{Kind: NoticeDecided, Ref: ev.Ref, Err: "storing the grant failed: " + failure})
			return
		}
		m.committedLocally(t.root) // the grant travels like any local commit
		m.recordDecision(ev.Ref, &decided)
	}
	return nil
}

// recordDecision persists a decided record, then applies it and notifies.
func (m *Machine) recordDecision(ref Ref, decided *ApprovalRequest) {
	m.persistApproval(decided, func(failure string) {
		r := m.approvals.byID[decided.ID]
		if failure != "" {
			if r != nil {
				r.deciding = false
			}
			m.notify(Notice{Kind: NoticeDecided, Ref: ref, Err: "recording the decision failed: " + failure})
			return
		}
		if r != nil {
			*r = *decided
		}
		m.notify(Notice{Kind: NoticeDecided, Ref: ref, Tree: decided.Tree})
	})
}

// grantEntry builds the _settings entry granting the request, on t's tips,
// signed by the device key.
func (m *Machine) grantEntry(t *tree, r *ApprovalRequest) (Blob, error) {
	doc := access.SettingsDoc{Auth: &access.AuthDoc{Keys: map[string]access.Grant{
		r.Key.String(): {Name: r.KeyName, Permissions: r.Granted, Status: access.Active}}}}
	data, err := json.Marshal(doc)
	if err != nil {
		return Blob{}, err
	}
	tips := t.dag.Tips()
	height := uint64(0)
	for _, id := range tips {
		if n, ok := t.dag.Lookup(id); ok {
			height = max(height, uint64(t.dag.Depth(n))+1)
		}
	}
	e, err := entry.NewBuilder(t.root).Parents(tips...).Height(height).
		Store(entry.StoreNode{Name: entry.StoreSettings, Data: data}).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: m.cfg.DeviceKey.Public()}}).Build()
	if err != nil {
		return Blob{}, err
	}
	b, err := Seal(e, m.cfg.DeviceKey)
	if err != nil {
		return Blob{}, err
	}
	b.verified = true // made here: nothing to decode or check on ingest
	return b, nil
}

// approvalRecord is the stored form of an ApprovalRequest.
type approvalRecord struct {
	ID          string          `json:"id"`
	Tree        entry.ID        `json:"tree"`
	Key         entry.PublicKey `json:"key"`
	KeyName     string          `json:"key_name"`
	Requested   Permission      `json:"requested"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	From        PeerID          `json:"from"`
	AtMs        int64           `json:"at_ms"`
	Status      string          `json:"status"`
	Granted     *Permission     `json:"granted,omitempty"`
	DecidedBy   entry.PublicKey `json:"decided_by,omitzero"`
	DecidedAtMs int64           `json:"decided_at_ms,omitempty"`
}

// EncodeApproval is the byte form a store keeps of a record.
func EncodeApproval(r ApprovalRequest) ([]byte, error) {
	rec := approvalRecord{ID: r.ID, Tree: r.Tree, Key: r.Key, KeyName: r.KeyName, Requested: r.Requested,
		Metadata: r.Metadata, From: r.From, AtMs: r.AtMs, Status: r.Status.String(), DecidedBy: r.DecidedBy, DecidedAtMs: r.DecidedAtMs}
	if r.Status == ApprovalApproved {
		rec.Granted = &r.Granted
	}
	return json.Marshal(rec)
}

// DecodeApproval reads what EncodeApproval wrote.
func DecodeApproval(b []byte) (ApprovalRequest, error) {
	var rec approvalRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return ApprovalRequest{}, fmt.Errorf("kernel: approval record: %w", err)
	}
	r := ApprovalRequest{ID: rec.ID, Tree: rec.Tree, Key: rec.Key, KeyName: rec.KeyName, Requested: rec.Requested,
		Metadata: rec.Metadata, From: rec.From, AtMs: rec.AtMs, DecidedBy: rec.DecidedBy, DecidedAtMs: rec.DecidedAtMs}
	if rec.Granted != nil {
		r.Granted = *rec.Granted
	}
	r.Status = ApprovalStatus(slices.Index(approvalNames[:], rec.Status))
	if r.ID == "" || r.Status < ApprovalPending {
		return ApprovalRequest{}, fmt.Errorf("kernel: approval record %q: bad id or status %q", rec.ID, rec.Status)
	}
	return r, nil
}

// ApplyApprovals applies a Write's approval records to a store's list
// (oldest first): an update replaces the record in place, a new one is
// appended, an ID alone deletes. For in-memory stores.
func ApplyApprovals(list []ApprovalRequest, writes []ApprovalRequest) []ApprovalRequest {
	return upsert(list, writes, func(r ApprovalRequest) string { return r.ID }, func(r ApprovalRequest) bool { return r.Status == 0 })
}

// upsert applies records to a list keyed by key: a record replaces the one
// with its key in place or is appended; one that gone says is a deletion
// removes it.
func upsert[T any, K comparable](list, writes []T, key func(T) K, gone func(T) bool) []T {
	for _, w := range writes {
		i := slices.IndexFunc(list, func(r T) bool { return key(r) == key(w) })
		switch {
		case gone(w) && i >= 0:
			list = slices.Delete(list, i, i+1)
		case gone(w):
		case i >= 0:
			list[i] = w
		default:
			list = append(list, w)
		}
	}
	return list
}
