package sim

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel"
)

// handleInject puts a crafted message on the wire, as a misbehaving or
// faulty peer would:
//
//	inject p9 p1 send=(e5,e6)        a SendEntries request from p9 to p1
//	inject p9 p1 tampered=e5         SendEntries of e5 with its data changed after signing
//	inject p2 p1 reply-add=(e9)      append entries to the next reply from p2 to p1
//	inject p2 p1 reply-keep=1        keep only the first entries of that reply
//	inject p9 p1 raw                 the input, verbatim, as a request body
//	{"Bogus":{}}
//
// A reply to an injected request is printed, not delivered.
func (e *Env) handleInject(d *datadriven.TestData) error {
	from, to := kernel.PeerID(d.CmdArgs[0].Key), kernel.PeerID(d.CmdArgs[1].Key)
	var msg kernel.Message
	switch arg := d.CmdArgs[2]; arg.Key {
	case "send":
		blobs, err := e.blobsNamed(arg.Vals)
		if err != nil {
			return err
		}
		msg = kernel.SendEntries{Entries: blobs}
	case "tampered":
		blobs, err := e.blobsNamed(arg.Vals)
		if err != nil {
			return err
		}
		t := blobs[0].Entry.Clone()
		t.Stores[0].Data = append(t.Stores[0].Data, []byte(" tampered")...)
		msg = kernel.SendEntries{Entries: []kernel.Blob{{Entry: t}}}
	case "reply-add":
		return e.replyAdd(from, to, arg.Vals, -1)
	case "reply-keep":
		var keep int
		d.ScanArgs(e.t, "reply-keep", &keep)
		return e.replyAdd(from, to, nil, keep)
	case "raw":
		e.net = append(e.net, &flight{from: from, to: to, data: []byte(strings.TrimSpace(d.Input))})
		return nil
	default:
		return fmt.Errorf("unknown inject kind %q", arg.Key)
	}
	data, err := kernel.EncodeMessage(kernel.ProtocolV0, msg)
	if err != nil {
		return err
	}
	e.net = append(e.net, &flight{from: from, to: to, env: kernel.Envelope{To: to, Msg: msg}, data: data})
	return nil
}

// replyAdd appends entries to the first reply in flight from one machine to
// another: a responder that slips entries of another tree into its answer.
func (e *Env) replyAdd(from, to kernel.PeerID, names []string, keep int) error {
	extra, err := e.blobsNamed(names)
	if err != nil {
		return err
	}
	for _, f := range e.net {
		if f.from != from || f.to != to || f.env.Reply == 0 {
			continue
		}
		switch m := f.env.Msg.(type) {
		case kernel.IncrementalResponse:
			m.MissingEntries = append(m.MissingEntries, extra...)
			if keep >= 0 {
				m.MissingEntries = m.MissingEntries[:min(keep, len(m.MissingEntries))]
			}
			f.env.Msg = m
		case kernel.BootstrapResponse:
			m.AllEntries = append(m.AllEntries, extra...)
			f.env.Msg = m
		case kernel.EntriesResponse:
			m.Entries = append(m.Entries, extra...)
			f.env.Msg = m
		default:
			continue
		}
		f.data, err = kernel.EncodeMessage(f.env.Version, f.env.Msg)
		return err
	}
	return fmt.Errorf("no reply in flight from %s to %s", from, to)
}
