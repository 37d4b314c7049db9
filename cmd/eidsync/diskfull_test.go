package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eidsync/eidsync/internal/tinyfs"
)

// fails runs a command that must fail and returns its stderr.
func fails(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("eidsync %s: %v, want a non-zero exit\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stderr.String())
}

// TestEndToEndDiskFull: commits into a data directory on a 1 MiB file
// system until one fails. The failing command exits non-zero with one line
// that says what to do; a node cannot start on a read-only directory and
// says so in one line; once there is room again every entry committed
// before is there and writes go on.
func TestEndToEndDiskFull(t *testing.T) {
	dir := tinyfs.Mount(t, "1m")
	bin := buildBinary(t)
	tree := run(t, bin, "--data", dir, "db", "create", "full")
	value := strings.Repeat("v", 4000)
	committed := 1 // the root
	var stderr string
	for i := 0; ; i++ {
		if i == 500 {
			t.Fatal("500 commits of 4 KB fit in 1 MiB")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var errBuf bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, "--data", dir, "db", "put", "--tree", tree, "--value", value, "--count", "5")
		cmd.Stderr = &errBuf
		err := cmd.Run()
		cancel()
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("put: %v", err)
			}
			// NB: the log lines come first; the error is the last line.
			lines := strings.Split(strings.TrimSpace(errBuf.String()), "\n")
			stderr = lines[len(lines)-1]
			break
		}
		committed += 5
	}
	t.Logf("after %d entries: %s", committed, stderr)
	if committed == 1 {
		t.Fatal("nothing fitted: the test proves nothing")
	}
	if !strings.HasPrefix(stderr, "eidsync: commit to ") || !strings.Contains(stderr, "no space left") || !strings.Contains(stderr, "free space") {
		t.Fatalf("want one line saying the disk is full and what to do, got %q", stderr)
	}

	tinyfs.Remount(t, dir, "ro")
	stderr = fails(t, bin, "--data", dir, "--log-level", "warn", "serve", "--http", "127.0.0.1:0")
	t.Logf("serve on a read-only directory: %s", stderr)
	if strings.Contains(stderr, "\n") || !strings.Contains(stderr, "read-only: remount it read-write") {
		t.Fatalf("want one line saying the directory is read-only and what to do, got %q", stderr)
	}

	tinyfs.Remount(t, dir, "rw,size=16m")
	if got := len(history(t, bin, dir, tree)); got < committed {
		t.Fatalf("%d entries after the failure, want at least the %d committed before", got, committed)
	}
	run(t, bin, "--data", dir, "db", "put", "--tree", tree, "--value", "after")
}
