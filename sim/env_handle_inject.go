package sim

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
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
//	inject p9 p1 synctree=t1 tips=(e1) signed=p9   a SyncTree (bootstrap without tips), with auth by p9's key
//	inject p9 p1 synctree=t1 signed=p9 skew=30000  ... stamped by a clock 30 s ahead
//	inject p9 p1 push=(e5) tree=t1 signed=p9       a v1 PushEntries naming tree t1, with auth
//	inject p9 p1 replay                            the last injected message again, byte for byte
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
	case "synctree", "push":
		m, err := e.authRequest(d, from, to)
		if err != nil {
			return err
		}
		msg = m
	case "replay":
		if e.lastInjected == nil {
			return fmt.Errorf("nothing injected yet")
		}
		f := *e.lastInjected
		e.net = append(e.net, &f)
		return nil
	default:
		return fmt.Errorf("unknown inject kind %q", arg.Key)
	}
	version := kernel.ProtocolV0
	if se, ok := msg.(kernel.SendEntries); ok && se.Auth != nil {
		version = kernel.ProtocolV1
	}
	data, err := kernel.EncodeMessage(version, msg)
	if err != nil {
		return err
	}
	f := &flight{from: from, to: to, env: kernel.Envelope{To: to, Msg: msg}, data: data}
	e.lastInjected = f
	e.net = append(e.net, f)
	return nil
}

// authRequest builds an injected SyncTree or PushEntries, signed with
// signed=NAME's key for the receiver's key when asked.
func (e *Env) authRequest(d *datadriven.TestData, from, to kernel.PeerID) (kernel.Message, error) {
	var msg kernel.Message
	var signer string
	var tips []entry.ID
	var skew int64 // the signer's clock runs this far ahead of the env's
	for _, arg := range d.CmdArgs[2:] {
		switch arg.Key {
		case "synctree", "tree":
			b, err := e.blobsNamed(arg.Vals)
			if err != nil || len(b) != 1 {
				return nil, fmt.Errorf("%s= names one tree: %v", arg.Key, err)
			}
			switch m := msg.(type) {
			case nil:
				msg = kernel.SyncTree{TreeID: b[0].ID, OurTips: []entry.ID{}, PeerPubkey: e.keyOf(string(from)).Public()}
			case kernel.SendEntries:
				m.TreeID = b[0].ID
				msg = m
			}
		case "push":
			blobs, err := e.blobsNamed(arg.Vals)
			if err != nil {
				return nil, err
			}
			msg = kernel.SendEntries{Entries: blobs}
		case "tips":
			b, err := e.blobsNamed(arg.Vals)
			if err != nil {
				return nil, err
			}
			for _, x := range b {
				tips = append(tips, x.ID)
			}
		case "signed":
			signer = arg.Vals[0]
		case "skew":
			var ms int64
			d.ScanArgs(e.t, "skew", &ms)
			skew = ms
		case "request":
			p, err := access.ParsePermission(arg.Vals[0])
			if err != nil {
				return nil, err
			}
			st := msg.(kernel.SyncTree)
			name := string(from)
			st.RequestingKey, st.RequestingKeyName, st.RequestedPermission = e.keyOf(string(from)).Public(), &name, &p
			msg = st
		}
	}
	if st, ok := msg.(kernel.SyncTree); ok && tips != nil {
		st.OurTips = tips
		msg = st
	}
	if signer == "" {
		return msg, nil
	}
	e.nonce++
	nonce := sha256.Sum256([]byte(fmt.Sprint("sim nonce ", e.nonce)))
	auth := kernel.SignAuth(e.keyOf(signer), e.keyOf(string(to)).Public(), msg, uint64(e.nowMs+skew), nonce[:])
	switch m := msg.(type) {
	case kernel.SyncTree:
		m.Auth = auth
		return m, nil
	case kernel.SendEntries:
		m.Auth = auth
		return m, nil
	}
	return msg, nil
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
