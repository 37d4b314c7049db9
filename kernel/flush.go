package kernel

import (
	"fmt"
	"strings"
)

// flush is a FlushAsked waiting for the pushes it started.
type flush struct {
	ref      Ref
	waiting  map[sessionKey]bool
	failures []string
}

// flushAsked makes every dirty relation push now and reports, with
// NoticeFlushed, once each push has been delivered or has failed. The
// reference's flush is its test barrier; this one says what failed.
func (m *Machine) flushAsked(ref Ref) {
	f := &flush{ref: ref, waiting: map[sessionKey]bool{}}
	for _, key := range m.relationKeys() {
		r := m.relations[key]
		if !r.dirty {
			continue
		}
		f.waiting[key] = true
		if r.syncing == 0 {
			m.startBackground(r, true)
		}
		if r.syncing == 0 { // no room for a session now: it is due at once
			r.pushAt = m.nowTicks
			m.relationChanged()
		}
	}
	m.flushes = append(m.flushes, f)
	m.flushProgress(sessionKey{}, "")
}

// flushProgress counts a finished session of key against every waiting
// flush, and reports the flushes with nothing left to wait for.
func (m *Machine) flushProgress(key sessionKey, failure string) {
	kept := m.flushes[:0]
	for _, f := range m.flushes {
		if f.waiting[key] {
			delete(f.waiting, key)
			if failure != "" {
				f.failures = append(f.failures, fmt.Sprintf("%s %s: %s", key.peer, key.tree, failure))
			}
		}
		if len(f.waiting) > 0 {
			kept = append(kept, f)
			continue
		}
		n := Notice{Kind: NoticeFlushed, Ref: f.ref}
		if len(f.failures) > 0 {
			n.Err = fmt.Sprintf("%d push(es) failed: %s", len(f.failures), strings.Join(f.failures, "; "))
		}
		m.notify(n)
	}
	m.flushes = kept
}
