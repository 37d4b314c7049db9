package kernel

import (
	"fmt"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Config holds every limit of a Machine. Durations are in ticks; the driver
// decides how long a tick is. Start from DefaultConfig and override.
type Config struct {
	// Seed seeds the machine's own PRNG (handshake challenges). The driver
	// draws it from crypto/rand and logs it; the simulator derives it.
	Seed uint64
	// DeviceKey is this node's identity; it signs handshake answers.
	DeviceKey entry.PrivateKey
	// DisplayName is sent in handshakes; empty sends null.
	DisplayName string
	// Wire bounds every message and entry this machine reads or writes.
	Wire WireLimits
	// ProtocolMax is the highest protocol version spoken: ProtocolV1, or
	// ProtocolV0 to behave exactly as a reference node does on the wire.
	ProtocolMax uint32

	PeersMax            int    // peers with state in memory
	TreesMax            int    // trees held
	SessionsMax         int    // outbound syncs in progress at once
	RequestsInflightMax int    // inbound requests being answered at once
	WantsInflightMax    int    // entries asked by GetEntries and not yet answered, per peer
	OrphansMax          int    // received entries waiting for parents, per tree
	OrphanTicksMax      uint64 // an orphan whose parents never come is dropped after this
	RequestTicksMax     uint64 // an outbound request with no reply fails after this
	RoundsMax           int    // requests one sync may make (continuations, fetches, pushes)
	FrontierMax         int    // IDs in a have-set

	// Background sync (see relation.go).
	RelationsMax      int                 // (peer, tree) pairs synced in the background
	PushDelayTicks    uint64              // a local commit is pushed this long after, coalescing later ones
	RepairTicks       uint64              // a relation syncs both ways at least this often (+ up to 25% jitter)
	RepairTicksByTree map[entry.ID]uint64 // per-tree RepairTicks; read-only once passed to New
	RetryTicksMin     uint64              // first retry of a failed sync
	RetryTicksMax     uint64              // backoff ceiling
	RetryAttemptsMax  int                 // failed syncs before giving up (until the next repair)

	// Request auth (gate.go, nonces.go).
	AuthWindowMs uint64 // a request auth's timestamp must be within this of the driver's clock
	AuthLeaseMs  uint64 // how far past need the durable nonce floor is raised
	NoncesMax    int    // request auths remembered within the window
	KeyFloorsMax int    // keys with a nonce floor of their own (nonces.go)
	ApprovalsMax int    // bootstrap requests remembered, pending or decided
}

// DefaultConfig returns limits suited to a node serving a few hundred peers
// with trees of millions of entries, at a tick of 100 ms.
func DefaultConfig() Config {
	return Config{
		Wire:                DefaultWireLimits(),
		ProtocolMax:         ProtocolV1,
		PeersMax:            1024,
		TreesMax:            4096,
		SessionsMax:         64,
		RequestsInflightMax: 256,
		WantsInflightMax:    512,
		OrphansMax:          10_000,
		OrphanTicksMax:      3000,
		RequestTicksMax:     300,
		RoundsMax:           10_000,
		FrontierMax:         64,
		RelationsMax:        16_384,
		PushDelayTicks:      2,
		RepairTicks:         600,
		RetryTicksMin:       10,
		RetryTicksMax:       600,
		RetryAttemptsMax:    20,
		AuthWindowMs:        60_000,
		AuthLeaseMs:         10_000,
		NoncesMax:           65_536,
		KeyFloorsMax:        4096,
		ApprovalsMax:        1024,
	}
}

// Validate checks each limit and how they relate.
func (c Config) Validate() error {
	positive := []struct {
		name string
		v    int
	}{
		{"Wire.MessageBytesMax", c.Wire.MessageBytesMax}, {"Wire.EntriesMax", c.Wire.EntriesMax},
		{"Wire.IDsMax", c.Wire.IDsMax}, {"Wire.Entry.EntryBytesMax", c.Wire.Entry.EntryBytesMax},
		{"PeersMax", c.PeersMax}, {"TreesMax", c.TreesMax}, {"SessionsMax", c.SessionsMax},
		{"RequestsInflightMax", c.RequestsInflightMax}, {"WantsInflightMax", c.WantsInflightMax},
		{"OrphansMax", c.OrphansMax}, {"RoundsMax", c.RoundsMax}, {"FrontierMax", c.FrontierMax},
		{"RelationsMax", c.RelationsMax}, {"RetryAttemptsMax", c.RetryAttemptsMax},
		{"NoncesMax", c.NoncesMax}, {"ApprovalsMax", c.ApprovalsMax},
		{"KeyFloorsMax", c.KeyFloorsMax},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("%w: %s must be positive, got %d", ErrConfig, p.name, p.v)
		}
	}
	switch {
	case c.RetryTicksMin == 0 || c.RetryTicksMin > c.RetryTicksMax || c.RepairTicks == 0 || c.PushDelayTicks == 0:
		return fmt.Errorf("%w: need 0 < RetryTicksMin <= RetryTicksMax, RepairTicks > 0 and PushDelayTicks > 0", ErrConfig)
	case c.ProtocolMax > ProtocolV1:
		return fmt.Errorf("%w: ProtocolMax %d is above %d", ErrConfig, c.ProtocolMax, ProtocolV1)
	case c.AuthWindowMs == 0 || c.AuthLeaseMs == 0:
		return fmt.Errorf("%w: AuthWindowMs and AuthLeaseMs must be positive", ErrConfig)
	case c.OrphanTicksMax == 0 || c.RequestTicksMax == 0:
		return fmt.Errorf("%w: OrphanTicksMax and RequestTicksMax must be positive", ErrConfig)
	case c.Wire.Entry.EntryBytesMax*4+envelopeBytesMax > c.Wire.MessageBytesMax:
		return fmt.Errorf("%w: an entry of EntryBytesMax (%d) must fit one message of MessageBytesMax (%d) in v0 JSON",
			ErrConfig, c.Wire.Entry.EntryBytesMax, c.Wire.MessageBytesMax)
	case c.FrontierMax > c.Wire.IDsMax:
		return fmt.Errorf("%w: FrontierMax %d must fit Wire.IDsMax %d", ErrConfig, c.FrontierMax, c.Wire.IDsMax)
	case c.DeviceKey.Public().IsZero():
		return fmt.Errorf("%w: DeviceKey is not set", ErrConfig)
	}
	return nil
}

// envelopeBytesMax bounds the JSON of a response without its entries: the
// variant name, tree ID, up to IDsMax tips and the continuation fields are
// counted separately; this is the fixed part.
const envelopeBytesMax = 1024
