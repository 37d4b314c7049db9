//go:build !invariants

package kernel

func (m *Machine) checkInvariants() {}
