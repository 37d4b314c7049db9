package sim

import (
	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// handleMachine creates machines with default limits, seeded by name.
//
//	machine p1 p2
//	machine p3 entries-max=2 message-bytes-max=4000 ids-max=2 orphan-ticks=3
//	machine p4 v0     (speaks only the reference's protocol version 0)
//	machine p5 retry-min=2 retry-max=8 attempts=3 request-ticks=3 repair-ticks=50 push-delay=2
func (e *Env) handleMachine(d *datadriven.TestData) error {
	for _, arg := range d.CmdArgs {
		if len(arg.Vals) > 0 {
			continue
		}
		seed, keySeed := seedFor(arg.Key)
		cfg := kernel.DefaultConfig()
		cfg.Seed, cfg.DeviceKey = seed, entry.NewPrivateKey(keySeed)
		if d.HasArg("entries-max") {
			d.ScanArgs(e.t, "entries-max", &cfg.Wire.EntriesMax)
		}
		if d.HasArg("message-bytes-max") {
			d.ScanArgs(e.t, "message-bytes-max", &cfg.Wire.MessageBytesMax)
			cfg.Wire.Entry.EntryBytesMax = (cfg.Wire.MessageBytesMax - 1100) / 4
		}
		if d.HasArg("v0") {
			cfg.ProtocolMax = kernel.ProtocolV0
		}
		if d.HasArg("ids-max") {
			d.ScanArgs(e.t, "ids-max", &cfg.Wire.IDsMax)
			cfg.FrontierMax = min(cfg.FrontierMax, cfg.Wire.IDsMax)
			cfg.WantsInflightMax = min(cfg.WantsInflightMax, cfg.Wire.IDsMax)
		}
		for _, knob := range []struct {
			arg string
			v   *uint64
		}{{"retry-min", &cfg.RetryTicksMin}, {"retry-max", &cfg.RetryTicksMax}, {"request-ticks", &cfg.RequestTicksMax},
			{"repair-ticks", &cfg.RepairTicks}, {"push-delay", &cfg.PushDelayTicks}} {
			if d.HasArg(knob.arg) {
				d.ScanArgs(e.t, knob.arg, knob.v)
			}
		}
		if d.HasArg("attempts") {
			d.ScanArgs(e.t, "attempts", &cfg.RetryAttemptsMax)
		}
		if d.HasArg("approvals-max") {
			d.ScanArgs(e.t, "approvals-max", &cfg.ApprovalsMax)
		}
		if d.HasArg("nonces-max") {
			d.ScanArgs(e.t, "nonces-max", &cfg.NoncesMax)
		}
		if d.HasArg("key-floors-max") {
			d.ScanArgs(e.t, "key-floors-max", &cfg.KeyFloorsMax)
		}
		if d.HasArg("orphan-ticks") {
			d.ScanArgs(e.t, "orphan-ticks", &cfg.OrphanTicksMax)
		}
		m, err := kernel.New(cfg, kernel.State{})
		if err != nil {
			return err
		}
		id := kernel.PeerID(arg.Key)
		e.nodes[id] = &Node{ID: id, M: m, Key: cfg.DeviceKey, Store: NewMemStore(), Config: cfg}
	}
	return nil
}

// handleRestart crashes a machine and rebuilds it from its store alone:
// volatile state and pending effects are gone.
//
//	restart p1
func (e *Env) handleRestart(d *datadriven.TestData) error {
	n, err := e.node(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	m, err := kernel.New(n.Config, n.Store.State())
	if err != nil {
		return err
	}
	n.M, n.writes, n.reads = m, nil, nil
	return nil
}
