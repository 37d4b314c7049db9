package sim

import (
	"encoding/base64"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// badKind is one way the rogue peer misbehaves.
type badKind uint8

const (
	badTampered    badKind = iota // signed, then its data changed
	badWrongKey                   // the hint names one key, another signed
	badUnsigned                   // a hint and no signature
	badNoParent                   // a parent that exists nowhere: an orphan forever
	badUnknownTree                // an entry of a tree nobody has
	badGarbage                    // not an entry at all
	badCount
)

// bad sends n a SendEntries from the rogue peer with one bad entry. The
// tampered and wrongly signed ones are poison: the integrity checker fails
// the run if any store ever holds them.
func (wl *workload) bad(r rng, n *node, tree entry.ID) {
	w := wl.w
	if !w.on(FaultBadEntry) || !w.inject(FaultBadEntry, n) {
		return
	}
	parents := n.m.Tips(tree)
	if parents == nil {
		parents = []entry.ID{tree}
	}
	wl.made++
	payload := []byte("rogue/" + string(rune('a'+wl.made%26)))
	payload = append(payload, byte(wl.made), byte(wl.made>>8), byte(r.Uint32()))
	rogue := w.rogue
	var b kernel.Blob
	switch kind := badKind(r.pick(int(badCount))); kind {
	case badTampered:
		e := w.reg.build(tree, parents, payload, rogue.Public(), &rogue)
		e.Stores[0].Data = append(e.Stores[0].Data, " tampered"...)
		b = w.reg.rogueBlob(e, "tampered after signing")
	case badWrongKey:
		b = w.reg.rogueBlob(w.reg.build(tree, parents, payload, n.key.pub, &rogue), "signed by a key its hint does not name")
	case badUnsigned:
		b = w.reg.rogueBlob(w.reg.build(tree, parents, payload, rogue.Public(), nil), "a key hint without a signature")
	case badNoParent:
		b = w.reg.rogueBlob(w.reg.build(tree, []entry.ID{entry.IDOf(payload)}, payload, entry.PublicKey{}, nil), "")
	case badUnknownTree:
		fake := entry.IDOf(append(payload, "root"...))
		b = w.reg.rogueBlob(w.reg.build(fake, []entry.ID{fake}, payload, entry.PublicKey{}, nil), "")
	case badGarbage:
		junk := make([]byte, r.between(1, 40))
		for i := range junk {
			junk[i] = byte(r.Uint32())
		}
		w.tr.line("rogue -> %s garbage", n.id)
		w.net.rogue(n, []byte(`{"SendEntries":["`+base64.StdEncoding.EncodeToString(junk)+`"]}`))
		return
	}
	data, err := kernel.EncodeMessage(kernel.ProtocolV1, kernel.SendEntries{Entries: []kernel.Blob{b}})
	if err != nil {
		panic("sim: encode a rogue message: " + err.Error())
	}
	w.tr.line("rogue -> %s SendEntries[%s]", n.id, w.tr.namer(b.ID))
	w.net.rogue(n, data)
}

// rogue sends bytes from the rogue peer to n; nobody waits for the answer.
func (net *network) rogue(n *node, data []byte) {
	net.w.tr.bytes(data)
	net.transmit(&packet{from: -1, to: n.idx, data: data})
}
