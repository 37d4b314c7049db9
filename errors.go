package eidsync

import (
	"errors"
	"fmt"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Errors returned by the Instance API.
var (
	// ErrClosed is returned by any call on a closed Instance.
	ErrClosed = errors.New("eidsync: instance is closed")
	// ErrSyncDisabled is returned by sync calls before EnableSync.
	ErrSyncDisabled = errors.New("eidsync: sync is not enabled (call EnableSync)")
	// ErrNoTransport is returned when no registered transport can reach an address.
	ErrNoTransport = errors.New("eidsync: no transport registered for this address (call RegisterTransport)")
	// ErrUnknownDatabase is returned for a tree this instance does not hold.
	ErrUnknownDatabase = errors.New("eidsync: database not found")
	// ErrInvalidArgument is returned for a malformed argument (empty name, bad ID).
	ErrInvalidArgument = errors.New("eidsync: invalid argument")
	// ErrPermissionDenied is returned when this node's key lacks the
	// permission a call needs on a database (writing, granting, approving).
	ErrPermissionDenied = errors.New("eidsync: permission denied")
	// ErrRequestNotFound is returned for an unknown bootstrap request ID.
	ErrRequestNotFound = errors.New("eidsync: bootstrap request not found")
	// ErrRequestDecided is returned when deciding a request already decided.
	ErrRequestDecided = errors.New("eidsync: bootstrap request already decided")
)

// BootstrapPendingError is a sync whose bootstrap waits for an admin of the
// database on the peer to approve this node's key: run the same sync again
// once approved. RequestID names the request there.
type BootstrapPendingError struct {
	Peer      string
	Tree      entry.ID
	RequestID string
}

func (e *BootstrapPendingError) Error() string {
	return fmt.Sprintf("eidsync: access to %s on %s waits for approval: request %s (an admin there runs `eidsync requests approve %s`)",
		e.Tree, e.Peer, e.RequestID, e.RequestID)
}

// SyncError is a sync that did not finish: the peer was unreachable,
// refused, or answered something unusable. Reason is the kernel's account.
type SyncError struct {
	Peer   string
	Tree   entry.ID
	Reason string
}

func (e *SyncError) Error() string {
	return fmt.Sprintf("eidsync: sync of %s with %s failed: %s", e.Tree, e.Peer, e.Reason)
}

// CommitError is a local commit the node refused or could not store.
type CommitError struct {
	Tree   entry.ID
	Reason string
}

func (e *CommitError) Error() string {
	return fmt.Sprintf("eidsync: commit to %s failed: %s", e.Tree, e.Reason)
}
