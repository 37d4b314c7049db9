package sim

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// handleCommit writes named entries locally on one or more machines, signed
// by the first machine's key. A line is a root ("t1") or "name: parents"; the
// tree is the first parent's. With quiet, effects run without output.
//
//	commit p1 p2 quiet
//	t1
//	e1: t1
//	e2: e1
//	e3: e1 e2
func (e *Env) handleCommit(d *datadriven.TestData) error {
	var nodes []*Node
	quiet := d.HasArg("quiet")
	for _, arg := range d.CmdArgs {
		if arg.Key == "quiet" {
			continue
		}
		n, err := e.node(arg.Key)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		b, err := e.makeEntry(nodes[0].Key, line)
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
	name, parentList, hasColon := strings.Cut(strings.TrimSpace(line), ":")
	name = strings.TrimSpace(name)
	if b, ok := e.blobs[name]; ok {
		return b, nil
	}
	var built *entry.Entry
	var err error
	if !hasColon {
		seed, _ := seedFor(name)
		built, err = entry.NewRoot(seed).Build()
	} else {
		built, err = e.buildChild(key, name, strings.Fields(parentList))
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

func (e *Env) buildChild(key entry.PrivateKey, name string, parentNames []string) (*entry.Entry, error) {
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
	built, err := entry.NewBuilder(root).Parents(parents...).Height(height).
		Store(entry.StoreNode{Name: "data", Data: []byte(name)}).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}}).Build()
	if err != nil {
		return nil, err
	}
	return built, entry.Sign(built, key)
}
