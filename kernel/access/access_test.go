package access_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

func TestPermissionOrder(t *testing.T) {
	ordered := []access.Permission{access.PermRead, access.PermWrite(math.MaxUint32), access.PermWrite(10),
		access.PermWrite(0), access.PermAdmin(math.MaxUint32), access.PermAdmin(5), access.PermAdmin(0)}
	for i, p := range ordered {
		for j, q := range ordered {
			if got, want := p.Compare(q), cmpInt(i, j); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", p, q, got, want)
			}
			if got := p.Satisfies(q); got != (i >= j) {
				t.Errorf("%v.Satisfies(%v) = %v", p, q, got)
			}
		}
	}
	if (access.Permission{}).Satisfies(access.PermRead) {
		t.Error("None satisfies Read")
	}
	if got := access.PermAdmin(0).Clamp(access.PermWrite(3)); got != access.PermWrite(3) {
		t.Errorf("clamp = %v", got)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestPermissionJSONAndParse(t *testing.T) {
	for _, c := range []struct {
		p          access.Permission
		json, user string
	}{
		{access.PermRead, `"Read"`, "read"},
		{access.PermWrite(10), `{"Write":10}`, "write:10"},
		{access.PermAdmin(0), `{"Admin":0}`, "Admin(0)"},
	} {
		b, err := json.Marshal(c.p)
		if err != nil || string(b) != c.json {
			t.Errorf("marshal %v = %s, %v", c.p, b, err)
		}
		var back access.Permission
		if err := json.Unmarshal(b, &back); err != nil || back != c.p {
			t.Errorf("unmarshal %s = %v, %v", b, back, err)
		}
		if p, err := access.ParsePermission(c.user); err != nil || p != c.p {
			t.Errorf("parse %q = %v, %v", c.user, p, err)
		}
	}
	for _, bad := range []string{`"Write"`, `{"Root":1}`, `{"Write":-1}`, `{"Write":1,"Admin":2}`, `7`} {
		var p access.Permission
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
	for _, bad := range []string{"", "owner", "read:1", "write:x", "admin:99999999999"} {
		if _, err := access.ParsePermission(bad); err == nil {
			t.Errorf("parse %q: no error", bad)
		}
	}
}

var (
	alice = key(1)
	bob   = key(2)
	eve   = key(3)
)

func key(n byte) entry.PublicKey {
	return entry.NewPrivateKey([32]byte{n}).Public()
}

func id(n int) entry.ID { return entry.IDOf([]byte(fmt.Sprint("entry", n))) }

func update(t interface {
	Helper()
	Fatalf(string, ...any)
}, depth uint32, n int, signer entry.PublicKey, root bool, doc string) access.Update {
	t.Helper()
	u, ok, err := access.ParseUpdate(depth, id(n), signer, root, []byte(doc))
	if err != nil || !ok {
		t.Fatalf("parse %s: ok=%v err=%v", doc, ok, err)
	}
	return u
}

func grant(k entry.PublicKey, perm string) string {
	return fmt.Sprintf(`{"auth":{"keys":{%q:{"permissions":%s,"status":"Active"}}}}`, k.String(), perm)
}

func TestSettingsRootAdminGrantsAndClamps(t *testing.T) {
	s := access.NewSettings(access.DefaultLimits())
	if !s.Open(access.PermWrite(0)) {
		t.Fatal("a tree with no auth is not open")
	}
	s.Add(update(t, 0, 0, alice, true, grant(alice, `{"Admin":0}`)))
	if s.Open(access.PermRead) || !s.Can(alice, access.PermAdmin(0)) || s.Can(bob, access.PermRead) {
		t.Fatalf("after root: open=%v alice=%v bob=%v", s.Open(access.PermRead), s.Permission(alice), s.Permission(bob))
	}
	// Alice makes Bob Admin(5); Bob then tries to give Eve Admin(0) and
	// to demote Alice: Eve is clamped to Admin(5), Alice is untouched.
	s.Add(update(t, 1, 1, alice, false, grant(bob, `{"Admin":5}`)))
	s.Add(update(t, 2, 2, bob, false, `{"auth":{"keys":{"`+eve.String()+`":{"permissions":{"Admin":0},"status":"Active"},"`+alice.String()+`":{"permissions":"Read","status":"Revoked"}}}}`))
	if got := s.Permission(eve); got != access.PermAdmin(5) {
		t.Errorf("eve = %v, want Admin(5) (clamped)", got)
	}
	if got := s.Permission(alice); got != access.PermAdmin(0) {
		t.Errorf("alice = %v, want Admin(0) (a weaker admin cannot demote her)", got)
	}
}

func TestSettingsIgnoresNonAdmins(t *testing.T) {
	s := access.NewSettings(access.DefaultLimits())
	s.Add(update(t, 0, 0, alice, true, grant(alice, `{"Admin":0}`)))
	s.Add(update(t, 1, 1, alice, false, grant(bob, `{"Write":1}`)))
	// Bob (a writer) grants himself Admin: ignored.
	s.Add(update(t, 2, 2, bob, false, grant(bob, `{"Admin":0}`)))
	s.Add(update(t, 2, 3, eve, false, `{"auth":{"global":{"permissions":{"Admin":0},"status":"Active"}}}`))
	if got := s.Permission(bob); got != access.PermWrite(1) {
		t.Errorf("bob = %v, want Write(1)", got)
	}
	if s.Open(access.PermRead) || s.Can(eve, access.PermRead) {
		t.Error("eve's global grant counted")
	}
	// A revocation by the admin takes effect.
	s.Add(update(t, 3, 4, alice, false, `{"auth":{"keys":{"`+bob.String()+`":{"permissions":{"Write":1},"status":"Revoked"}}}}`))
	if s.Can(bob, access.PermRead) {
		t.Error("revoked bob can still read")
	}
}

func TestSettingsGlobalGrant(t *testing.T) {
	s := access.NewSettings(access.DefaultLimits())
	s.Add(update(t, 0, 0, alice, true, `{"name":"x","auth":{"keys":{"`+alice.String()+`":{"permissions":{"Admin":0},"status":"Active"}},"global":{"permissions":"Read","status":"Active"}}}`))
	if !s.Open(access.PermRead) || s.Open(access.PermWrite(0)) || !s.Can(eve, access.PermRead) || s.Can(eve, access.PermWrite(9)) {
		t.Error("global Read grant is not read-only public")
	}
}

func TestParseUpdateRefusesMalformed(t *testing.T) {
	for _, doc := range []string{`[`, `{"auth":{"keys":{"nokey":{"permissions":"Read","status":"Active"}}}}`,
		`{"auth":{"keys":{"` + bob.String() + `":{"permissions":"Read","status":"Maybe"}}}}`,
		`{"auth":{"global":{"status":"Active"}}}`} {
		if _, _, err := access.ParseUpdate(1, id(1), alice, false, []byte(doc)); err == nil {
			t.Errorf("%s: no error", doc)
		}
	}
	if _, ok, err := access.ParseUpdate(1, id(1), alice, false, []byte(`{"name":"n"}`)); ok || err != nil {
		t.Errorf("settings without auth: ok=%v err=%v", ok, err)
	}
}

// TestSettingsOrderIndependent: every replica computes the same grants from
// the same settings entries, whatever order they arrived in.
func TestSettingsOrderIndependent(t *testing.T) {
	keys := []entry.PublicKey{alice, bob, eve}
	perms := []string{`"Read"`, `{"Write":3}`, `{"Admin":1}`, `{"Admin":0}`}
	rapid.Check(t, func(rt *rapid.T) {
		var updates []access.Update
		n := rapid.IntRange(1, 12).Draw(rt, "updates")
		updates = append(updates, update(rt, 0, 0, alice, true, grant(alice, `{"Admin":0}`)))
		for i := 1; i <= n; i++ {
			signer := rapid.SampledFrom(keys).Draw(rt, "signer")
			target := rapid.SampledFrom(keys).Draw(rt, "target")
			perm := rapid.SampledFrom(perms).Draw(rt, "perm")
			updates = append(updates, update(rt, uint32(rapid.IntRange(1, 5).Draw(rt, "depth")), i, signer, false, grant(target, perm)))
		}
		a, b := access.NewSettings(access.DefaultLimits()), access.NewSettings(access.DefaultLimits())
		for _, u := range updates {
			a.Add(u)
		}
		for _, i := range rapid.Permutation(seq(len(updates))).Draw(rt, "order") {
			b.Add(updates[i])
		}
		if !slices.Equal(a.Keys(), b.Keys()) {
			rt.Fatalf("grants differ by arrival order:\n%v\n%v", a.Keys(), b.Keys())
		}
	})
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
