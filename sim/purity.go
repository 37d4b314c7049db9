package sim

import (
	"fmt"

	"github.com/eidsync/eidsync/kernel"
)

// EventLog is everything one incarnation of one node was given, enough to
// rebuild it: its config, the state it restarted from, and every event in
// order. Outputs are kept as one hash per event (of the Ready batches
// drained after it and the bytes of the messages sent), so a replay can
// say where it first differs.
type EventLog struct {
	Node        kernel.PeerID
	Incarnation int
	Config      kernel.Config
	Restored    kernel.State
	Events      []kernel.Event

	errs    []string
	drained []bool
	outs    []uint64
	namer   kernel.Namer // the run's aliases, which the output hashes use
}

func (l *EventLog) add(ev kernel.Event, err error) {
	l.Events = append(l.Events, ev)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	l.errs, l.drained, l.outs = append(l.errs, msg), append(l.drained, false), append(l.outs, fnvOffset)
}

const fnvOffset = 14695981039346656037

func mix(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

func (l *EventLog) out(text []byte) {
	last := len(l.outs) - 1
	l.drained[last] = true
	l.outs[last] = mix(l.outs[last], text)
}

func (l *EventLog) outBytes(data []byte) {
	last := len(l.outs) - 1
	l.outs[last] = mix(l.outs[last], data)
}

// Replay steps the log into a fresh machine built by kernel.New and
// returns the index of the first event whose refusal or outputs differ,
// or -1 when it matches: the kernel's purity (invariant 9).
func (l *EventLog) Replay() (int, error) {
	m, err := kernel.New(l.Config, l.Restored)
	if err != nil {
		return 0, err
	}
	var text []byte
	for i, ev := range l.Events {
		msg := ""
		if err := m.Step(ev); err != nil {
			msg = err.Error()
		}
		if msg != l.errs[i] {
			return i, fmt.Errorf("event %d refused with %q, first time %q", i, msg, l.errs[i])
		}
		if !l.drained[i] {
			continue
		}
		h := uint64(fnvOffset)
		for m.HasReady() {
			rd := m.Ready()
			text = kernel.AppendReady(text[:0], l.Node, rd, l.namer)
			h = mix(h, text)
			for _, env := range rd.Send {
				if data, err := kernel.EncodeMessage(env.Version, env.Msg); err == nil {
					h = mix(h, data)
				}
			}
		}
		if h != l.outs[i] {
			return i, fmt.Errorf("event %d (%T) gave other effects than the first time", i, ev)
		}
	}
	return -1, nil
}

// checkPurity replays the logs of one node, chosen per seed, into fresh
// machines. The double run of TestSim covers every node; this covers the
// machine alone, with no simulator state between the runs.
func (w *world) checkPurity() {
	for _, l := range w.logs {
		if l.Node != w.nodes[w.checkNode].id {
			continue
		}
		if i, err := l.Replay(); i >= 0 || err != nil {
			w.failf(chkPurity, w.nodes[w.checkNode], "replaying incarnation %d: %v", l.Incarnation, err)
			return
		}
	}
}
