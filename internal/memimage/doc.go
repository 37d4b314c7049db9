// Package memimage is the in-memory image of a durable store, shared by
// the stores that keep everything in memory (the simulator's MemStore and
// disk, the root package's Options.InMemory store): entries per tree in
// applied order, the latest record of each relation, and the kernel.State
// a restarted machine is given. Each store adds its own faults, locking or
// checks around it.
package memimage
