package eidsync

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Permission is Read, Write(priority) or Admin(priority); a lower priority
// number is more power (PROTOCOL.md 1.7).
type Permission = access.Permission

// PermRead is the Read permission.
var PermRead = access.PermRead

// PermWrite is Write(priority).
func PermWrite(priority uint32) Permission { return access.PermWrite(priority) }

// PermAdmin is Admin(priority).
func PermAdmin(priority uint32) Permission { return access.PermAdmin(priority) }

// ParsePermission reads read, write[:N] or admin[:N].
func ParsePermission(s string) (Permission, error) { return access.ParsePermission(s) }

// writePerm is the weakest Write, what committing needs.
var writePerm = access.PermWrite(math.MaxUint32)

// adminPerm is the weakest Admin, what granting needs.
var adminPerm = access.PermAdmin(math.MaxUint32)

// DatabaseOption adjusts a new database's auth.
type DatabaseOption func(*access.AuthDoc)

// Public lets everyone hold p on the database (a global grant): Read makes
// it world-readable, Write also world-writable.
func Public(p Permission) DatabaseOption {
	return func(a *access.AuthDoc) { a.Global = &access.Grant{Permissions: p, Status: access.Active} }
}

// SyncOption adjusts one SyncWithPeer.
type SyncOption func(*kernel.SyncAsked) error

// RequestAccess asks the peer, when it refuses to let this node's key read
// the database, to queue a bootstrap request for p under keyName; an admin
// there approves or rejects it (Instance.ApproveRequest).
func RequestAccess(keyName string, p Permission) SyncOption {
	return func(ask *kernel.SyncAsked) error {
		if keyName == "" || p.Level == access.None {
			return fmt.Errorf("%w: RequestAccess needs a key name and a permission", ErrInvalidArgument)
		}
		ask.AccessName, ask.Access = keyName, &p
		return nil
	}
}

// Grant is one key's grant on a database.
type Grant struct {
	Key        entry.PublicKey `json:"key"`
	Name       string          `json:"name,omitempty"`
	Permission Permission      `json:"permission"`
	Active     bool            `json:"active"`
}

// Access is who may do what on a database.
type Access struct {
	Open   bool        `json:"open"`             // no auth at all: anyone may read and write
	Public *Permission `json:"public,omitempty"` // the active global grant
	Keys   []Grant     `json:"keys"`
}

// Access returns the database's merged permissions, as this node holds them.
func (db *Database) Access(ctx context.Context) (Access, error) {
	var out Access
	err := db.in.d.call(ctx, func(d *driver) {
		s := d.m.Permissions(db.id)
		out.Open = s.Open(access.PermAdmin(0))
		if s == nil {
			return
		}
		if g, ok := s.Global(); ok && g.Status == access.Active {
			p := g.Permissions
			out.Public = &p
		}
		for _, kg := range s.Keys() {
			out.Keys = append(out.Keys, Grant{Key: kg.Key, Name: kg.Name, Permission: kg.Permissions, Active: kg.Status == access.Active})
		}
	})
	return out, err
}

// Grant gives key permission p on the database (Revoke takes it back). This
// node's key must be an admin of it; p is clamped to what this node holds.
func (db *Database) Grant(ctx context.Context, key entry.PublicKey, name string, p Permission) error {
	return db.setGrant(ctx, key, access.Grant{Name: name, Permissions: p, Status: access.Active})
}

// Revoke takes key's grant away.
func (db *Database) Revoke(ctx context.Context, key entry.PublicKey) error {
	return db.setGrant(ctx, key, access.Grant{Permissions: access.PermRead, Status: access.Revoked})
}

func (db *Database) setGrant(ctx context.Context, key entry.PublicKey, g access.Grant) error {
	if key.IsZero() || g.Permissions.Level == access.None {
		return fmt.Errorf("%w: a grant needs a key and a permission", ErrInvalidArgument)
	}
	if err := db.need(ctx, adminPerm, "administer"); err != nil {
		return err
	}
	data, err := jsonSettings(access.SettingsDoc{Auth: &access.AuthDoc{Keys: map[string]access.Grant{key.String(): g}}})
	if err != nil {
		return err
	}
	b := entry.NewBuilder(db.id).Store(entry.StoreNode{Name: entry.StoreSettings, Data: data}).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: db.in.key.Public()}})
	_, err = db.in.commitChild(ctx, db.id, b)
	return err
}

// need fails with ErrPermissionDenied unless this node's key holds p on
// the database (or it is open to everyone for p).
func (db *Database) need(ctx context.Context, p Permission, verb string) error {
	var ok, held bool
	me := db.in.key.Public()
	err := db.in.d.call(ctx, func(d *driver) {
		held = len(d.m.Tips(db.id)) > 0
		s := d.m.Permissions(db.id)
		ok = s.Open(p) || s.Can(me, p)
	})
	switch {
	case err != nil:
		return err
	case !held:
		return fmt.Errorf("%w: %s", ErrUnknownDatabase, db.id)
	case !ok:
		return fmt.Errorf("%w: this node's key %s may not %s database %s", ErrPermissionDenied, me, verb, db.id)
	}
	return nil
}

// BootstrapRequest is a peer's request to read (or write) a database of
// this node, waiting for an admin's decision or decided.
type BootstrapRequest struct {
	ID          string          `json:"id"`
	Database    entry.ID        `json:"database"`
	Key         entry.PublicKey `json:"key"`
	KeyName     string          `json:"key_name"`
	Requested   Permission      `json:"requested"`
	Status      string          `json:"status"` // Pending, Approved or Rejected
	Granted     *Permission     `json:"granted,omitempty"`
	From        string          `json:"from"`
	AtMs        int64           `json:"at_ms"`
	DecidedBy   string          `json:"decided_by,omitempty"`
	DecidedAtMs int64           `json:"decided_at_ms,omitempty"`
}

// BootstrapRequests lists the requests this node holds, oldest first.
func (in *Instance) BootstrapRequests(ctx context.Context) ([]BootstrapRequest, error) {
	var out []BootstrapRequest
	err := in.d.call(ctx, func(d *driver) {
		for _, r := range d.m.Approvals() {
			br := BootstrapRequest{ID: r.ID, Database: r.Tree, Key: r.Key, KeyName: r.KeyName, Requested: r.Requested,
				Status: r.Status.String(), From: string(r.From), AtMs: r.AtMs, DecidedAtMs: r.DecidedAtMs}
			if r.Status == kernel.ApprovalApproved {
				g := r.Granted
				br.Granted = &g
			}
			if !r.DecidedBy.IsZero() {
				br.DecidedBy = r.DecidedBy.String()
			}
			out = append(out, br)
		}
	})
	return out, err
}

// ApproveRequest approves a pending request as this node's key, which must
// be an admin of the database: the requester's key is granted what it
// asked, clamped to this node's own permission. Its next sync succeeds.
func (in *Instance) ApproveRequest(ctx context.Context, id string) error {
	return in.decide(ctx, id, true)
}

// RejectRequest rejects a pending request; the same key asking again is
// told it was rejected.
func (in *Instance) RejectRequest(ctx context.Context, id string) error {
	return in.decide(ctx, id, false)
}

func (in *Instance) decide(ctx context.Context, id string, approve bool) error {
	if id == "" {
		return fmt.Errorf("%w: a request ID is needed", ErrInvalidArgument)
	}
	n, err := in.d.await(ctx, func(_ *driver, ref kernel.Ref) (kernel.Event, error) {
		return kernel.Decide{Ref: ref, ID: id, Approve: approve}, nil
	})
	switch {
	case err != nil:
		return err
	case n.Err == "":
		return nil
	case strings.HasPrefix(n.Err, "Bootstrap request not found"):
		return fmt.Errorf("%w: %s", ErrRequestNotFound, id)
	case strings.HasPrefix(n.Err, "Insufficient permission"):
		return fmt.Errorf("%w: %s", ErrPermissionDenied, n.Err)
	case strings.Contains(n.Err, "is already"):
		return fmt.Errorf("%w: %s", ErrRequestDecided, n.Err)
	}
	return fmt.Errorf("eidsync: deciding request %s: %s", id, n.Err)
}

func jsonSettings(doc access.SettingsDoc) ([]byte, error) { return json.Marshal(doc) }
