package tinyfs

import (
	"bytes"
	"os/exec"
	"testing"
)

// Mount mounts a tmpfs of size (mount's syntax, e.g. "1m") on a new
// temporary directory for the test and returns it. Mounting needs
// CAP_SYS_ADMIN; without it the test is skipped and says so.
func Mount(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): write failures untested", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// Remount remounts dir with opts ("ro", "rw,size=4m", ...).
func Remount(t testing.TB, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v: %s", opts, err, out)
	}
}
