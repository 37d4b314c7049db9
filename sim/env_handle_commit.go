package sim

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

// handleCommit writes named entries locally on one or more machines, signed
// by the first machine's key. A line is a root ("t1") or "name: parents"; the
// tree is the first parent's. With quiet, effects run without output. A line
// may end with auth settings: grant=KEY:PERM,... (KEY a peer name whose key
// is granted, PERM read, write:N or admin:N) and global=PERM; a root with
// them is signed, and a child with them carries a _settings store instead
// of data.
//
//	commit p1 p2 quiet
//	t1 grant=p1:admin:0,p2:read
//	e1: t1
//	e2: e1
//	e3: e1 e2
//	s1: e3 grant=p3:write:1
//
// commit as=p9 builds the entries signed by p9's key and commits them
// nowhere: for inject to send, as a peer that is not a machine would.
func (e *Env) handleCommit(d *datadriven.TestData) error {
	var nodes []*Node
	quiet := d.HasArg("quiet")
	var signer entry.PrivateKey
	for _, arg := range d.CmdArgs {
		if arg.Key == "quiet" {
			continue
		}
		if arg.Key == "as" {
			signer = e.keyOf(arg.Vals[0])
			continue
		}
		n, err := e.node(arg.Key)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) > 0 {
		signer = nodes[0].Key
	}
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		b, err := e.makeEntry(signer, line)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			e.ref++
			e.step(n, kernel.Committed{Ref: e.ref, Blob: b})
			if quiet {
				e.settle(n)
			}
		}
	}
	if !quiet {
		for _, n := range nodes {
			e.drain(n)
		}
	}
	return nil
}

// settle runs n's own effects (not the network) until it is idle, silently.
func (e *Env) settle(n *Node) {
	saved, before := e.out, len(e.Refusals)
	e.out = nil
	for n.M.HasReady() || (!n.Hold && len(n.writes)+len(n.reads) > 0) {
		e.drain(n)
		e.complete(n)
	}
	e.out = saved
	for _, r := range e.Refusals[before:] {
		e.printf("%s\n", r)
	}
}

// makeEntry builds (or reuses) the named entry of one script line.
func (e *Env) makeEntry(key entry.PrivateKey, line string) (kernel.Blob, error) {
	line, settings, err := e.settingsOf(line)
	if err != nil {
		return kernel.Blob{}, err
	}
	name, parentList, hasColon := strings.Cut(strings.TrimSpace(line), ":")
	name = strings.TrimSpace(name)
	if b, ok := e.blobs[name]; ok {
		return b, nil
	}
	var built *entry.Entry
	if !hasColon {
		seed, _ := seedFor(name)
		rb := entry.NewRoot(seed)
		if settings != nil {
			rb.Store(entry.StoreNode{Name: entry.StoreSettings, Data: settings}).
				SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}})
		}
		if built, err = rb.Build(); err == nil && settings != nil {
			err = entry.Sign(built, key)
		}
	} else {
		built, err = e.buildChild(key, name, strings.Fields(parentList), settings)
	}
	if err != nil {
		return kernel.Blob{}, fmt.Errorf("%s: %w", name, err)
	}
	data, id, err := entry.Encode(built)
	if err != nil {
		return kernel.Blob{}, err
	}
	if old, dup := e.names[id]; dup {
		return kernel.Blob{}, fmt.Errorf("%s has the same ID as %s", name, old)
	}
	b := kernel.Blob{ID: id, Data: data, Entry: built}
	e.names[id], e.blobs[name] = name, b
	return b, nil
}

func (e *Env) buildChild(key entry.PrivateKey, name string, parentNames []string, settings []byte) (*entry.Entry, error) {
	if len(parentNames) == 0 {
		return nil, fmt.Errorf("a non-root entry needs parents")
	}
	var parents []entry.ID
	var height uint64
	var root entry.ID
	for _, pn := range parentNames {
		p, ok := e.blobs[pn]
		if !ok {
			return nil, fmt.Errorf("unknown parent %q", pn)
		}
		parents = append(parents, p.ID)
		height = max(height, p.Entry.Tree.Height+1)
		if root.IsZero() {
			root = p.Entry.TreeID(p.ID)
		}
	}
	store := entry.StoreNode{Name: "data", Data: []byte(name)}
	if settings != nil {
		store = entry.StoreNode{Name: entry.StoreSettings, Data: settings}
	}
	built, err := entry.NewBuilder(root).Parents(parents...).Height(height).
		Store(store).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}}).Build()
	if err != nil {
		return nil, err
	}
	return built, entry.Sign(built, key)
}

// settingsOf cuts grant= and global= words off a commit line and returns
// the _settings JSON they make, or nil.
func (e *Env) settingsOf(line string) (string, []byte, error) {
	var rest []string
	auth := access.AuthDoc{}
	for _, word := range strings.Fields(line) {
		k, v, _ := strings.Cut(word, "=")
		switch k {
		case "grant":
			for _, g := range strings.Split(v, ",") {
				peer, perm, _ := strings.Cut(g, ":")
				p, err := access.ParsePermission(perm)
				if err != nil {
					return "", nil, err
				}
				if auth.Keys == nil {
					auth.Keys = map[string]access.Grant{}
				}
				auth.Keys[e.keyOf(peer).Public().String()] = access.Grant{Permissions: p, Status: access.Active}
			}
		case "global":
			p, err := access.ParsePermission(v)
			if err != nil {
				return "", nil, err
			}
			auth.Global = &access.Grant{Permissions: p, Status: access.Active}
		default:
			rest = append(rest, word)
		}
	}
	if auth.Keys == nil && auth.Global == nil {
		return line, nil, nil
	}
	data, err := json.Marshal(access.SettingsDoc{Auth: &auth})
	return strings.Join(rest, " "), data, err
}

// keyOf returns a machine's key, or a key derived from the name for a peer
// that is not a machine (an attacker injecting messages).
func (e *Env) keyOf(name string) entry.PrivateKey {
	if n, err := e.node(name); err == nil {
		return n.Key
	}
	return entry.NewPrivateKey(sha256.Sum256([]byte("sim key " + name)))
}
