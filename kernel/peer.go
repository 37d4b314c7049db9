package kernel

import (
	"fmt"

	"github.com/eidsync/eidsync/kernel/entry"
)

// peer is what the machine knows of one peer it talks to.
type peer struct {
	id         PeerID
	key        entry.PublicKey
	version    uint32
	handshaken bool
	// remembered holds, per tree, the peer's tips as of the last exchange:
	// sent back as a have-set so that the next diff starts from them.
	remembered map[entry.ID][]entry.ID
	wants      int // IDs asked with GetEntries and not yet answered
	stats      PeerStats
	// stampAfter is the floor the peer said our request auths must be
	// stamped after (its restart refused an older stamp); see gate.go.
	stampAfter int64
	// signAll says the peer refused an unsigned SyncTree for want of
	// auth: its settings are newer than ours, so sign every one (gate.go).
	signAll bool
}

// peerFor returns the state of id, creating it within PeersMax.
func (m *Machine) peerFor(id PeerID) (*peer, error) {
	if p := m.peers[id]; p != nil {
		return p, nil
	}
	if len(m.peers) >= m.cfg.PeersMax {
		return nil, fmt.Errorf("%w: PeersMax %d", ErrLimit, m.cfg.PeersMax)
	}
	p := &peer{id: id, remembered: map[entry.ID][]entry.ID{}}
	m.peers[id] = p
	return p, nil
}

// remember keeps the peer's latest tips for tree, bounded by FrontierMax.
func (p *peer) remember(tree entry.ID, tips []entry.ID, max int) {
	if len(tips) > max {
		tips = tips[:max]
	}
	p.remembered[tree] = append([]entry.ID(nil), tips...)
}
