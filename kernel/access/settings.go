package access

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Status says whether a grant counts.
type Status string

// Grant states (the reference's KeyStatus).
const (
	Active  Status = "Active"
	Revoked Status = "Revoked"
)

// Grant is what a key (or everyone, for the global grant) holds.
type Grant struct {
	Name        string     `json:"name,omitempty"`
	Permissions Permission `json:"permissions"`
	Status      Status     `json:"status"`
}

// KeyGrant is one key's grant, for listings.
type KeyGrant struct {
	Key entry.PublicKey
	Grant
}

// AuthDoc is the "auth" member of a _settings store: what one entry changes.
type AuthDoc struct {
	Keys   map[string]Grant `json:"keys,omitempty"`
	Global *Grant           `json:"global,omitempty"`
}

// SettingsDoc is the part of a _settings store this package reads; other
// members (the database name, ...) are left to their owners.
type SettingsDoc struct {
	Auth *AuthDoc `json:"auth,omitempty"`
}

// Update is one entry's change to a tree's auth, with what orders it.
type Update struct {
	Depth  uint32 // the entry's depth in the tree (the root is 0)
	ID     entry.ID
	Signer entry.PublicKey // the key that signed the entry
	Root   bool            // the tree's root: its signer is the first admin
	keys   []KeyGrant      // sorted by key
	global *Grant
}

// ParseUpdate reads an entry's _settings data. It returns ok=false, and no
// error, when the data changes no auth (no "auth" member), and an error
// when the auth member is malformed: such an entry is stored like any other
// but changes nothing, on every replica alike.
func ParseUpdate(depth uint32, id entry.ID, signer entry.PublicKey, root bool, data []byte) (Update, bool, error) {
	var doc SettingsDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return Update{}, false, fmt.Errorf("access: settings of %s: %v", id, err)
	}
	if doc.Auth == nil {
		return Update{}, false, nil
	}
	u := Update{Depth: depth, ID: id, Signer: signer, Root: root, global: doc.Auth.Global}
	if g := u.global; g != nil {
		if err := checkGrant("global", *g); err != nil {
			return Update{}, false, err
		}
	}
	for name, g := range doc.Auth.Keys {
		key, err := entry.ParsePublicKey(name)
		if err != nil {
			return Update{}, false, fmt.Errorf("access: settings of %s: key %q: %v", id, name, err)
		}
		if err := checkGrant(name, g); err != nil {
			return Update{}, false, err
		}
		u.keys = append(u.keys, KeyGrant{Key: key, Grant: g})
	}
	slices.SortFunc(u.keys, func(a, b KeyGrant) int { return cmpKey(a.Key, b.Key) })
	return u, true, nil
}

func checkGrant(who string, g Grant) error {
	if g.Permissions.Level == None || (g.Status != Active && g.Status != Revoked) {
		return fmt.Errorf("access: grant of %s: needs permissions and a status of Active or Revoked", who)
	}
	return nil
}

func cmpKey(a, b entry.PublicKey) int { return slices.Compare(a[:], b[:]) }

// Limits bounds what a tree's settings hold.
type Limits struct {
	UpdatesMax int // settings entries kept (the first ones in (depth, ID) order)
	KeysMax    int // keys with a grant
}

// DefaultLimits suits trees shared by a few thousand keys.
func DefaultLimits() Limits { return Limits{UpdatesMax: 4096, KeysMax: 4096} }

// Settings is one tree's merged auth.
type Settings struct {
	lim     Limits
	updates []Update // sorted by (Depth, ID)
	keys    map[entry.PublicKey]Grant
	global  *Grant
}

// NewSettings returns the settings of a tree with no auth yet.
func NewSettings(lim Limits) *Settings {
	return &Settings{lim: lim, keys: map[entry.PublicKey]Grant{}}
}

// Clone returns an independent copy (nil for nil).
func (s *Settings) Clone() *Settings {
	if s == nil {
		return nil
	}
	c := &Settings{lim: s.lim, updates: slices.Clone(s.updates), keys: maps.Clone(s.keys)}
	if s.global != nil {
		g := *s.global
		c.global = &g
	}
	return c
}

// Add merges u. It reports false when u was already merged or falls beyond
// UpdatesMax.
func (s *Settings) Add(u Update) bool {
	i, found := slices.BinarySearchFunc(s.updates, u, cmpUpdate)
	if found || i >= s.lim.UpdatesMax {
		return false
	}
	s.updates = slices.Insert(s.updates, i, u)
	if len(s.updates) > s.lim.UpdatesMax {
		s.updates = s.updates[:s.lim.UpdatesMax]
	}
	s.replay()
	return true
}

func cmpUpdate(a, b Update) int {
	if a.Depth != b.Depth {
		if a.Depth < b.Depth {
			return -1
		}
		return 1
	}
	return a.ID.Compare(b.ID)
}

// adminFloor is the weakest Admin: what a signer needs to change settings.
var adminFloor = PermAdmin(math.MaxUint32)

// replay recomputes the grants from the updates in order: an update counts
// only if its signer was an admin at that point, grants are clamped to the
// signer's own permission, and no admin changes the grant of a key more
// powerful than itself.
func (s *Settings) replay() {
	clear(s.keys)
	s.global = nil
	for _, u := range s.updates {
		signer := s.Permission(u.Signer)
		if u.Root || s.unowned() {
			signer = PermAdmin(0)
		}
		if !signer.Satisfies(adminFloor) {
			continue
		}
		for _, kg := range u.keys {
			cur, exists := s.keys[kg.Key]
			if exists && cur.Status == Active && cur.Permissions.Compare(signer) > 0 {
				continue
			}
			if !exists && len(s.keys) >= s.lim.KeysMax {
				continue
			}
			g := kg.Grant
			g.Permissions = g.Permissions.Clamp(signer)
			s.keys[kg.Key] = g
		}
		if u.global != nil {
			g := *u.global
			g.Permissions = g.Permissions.Clamp(signer)
			s.global = &g
		}
	}
}

// unowned reports whether no grant was ever made: the tree has no auth, so
// the first update to add some makes its signer the owner.
func (s *Settings) unowned() bool { return len(s.keys) == 0 && s.global == nil }

// Permission returns the most a key holds: its active direct grant or the
// active global grant, whichever is stronger; None when neither.
func (s *Settings) Permission(key entry.PublicKey) Permission {
	var p Permission
	if s == nil {
		return p
	}
	if g, ok := s.keys[key]; ok && g.Status == Active {
		p = g.Permissions
	}
	if g := s.global; g != nil && g.Status == Active && g.Permissions.Compare(p) > 0 {
		p = g.Permissions
	}
	return p
}

// Can reports whether key holds at least req.
func (s *Settings) Can(key entry.PublicKey, req Permission) bool {
	return s.Permission(key).Satisfies(req)
}

// Open reports whether anyone may do what req asks without proving a key:
// the tree has no auth at all (the reference's "auth not configured"), or
// its active global grant satisfies req.
func (s *Settings) Open(req Permission) bool {
	if s == nil || s.unowned() {
		return true
	}
	return s.global != nil && s.global.Status == Active && s.global.Permissions.Satisfies(req)
}

// Keys lists the direct grants, sorted by key.
func (s *Settings) Keys() []KeyGrant {
	out := make([]KeyGrant, 0, len(s.keys))
	for k, g := range s.keys {
		out = append(out, KeyGrant{Key: k, Grant: g})
	}
	slices.SortFunc(out, func(a, b KeyGrant) int { return cmpKey(a.Key, b.Key) })
	return out
}

// Global returns the global grant, if any.
func (s *Settings) Global() (Grant, bool) {
	if s.global == nil {
		return Grant{}, false
	}
	return *s.global, true
}
