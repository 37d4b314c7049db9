package kernel

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// TestSealSkipsOnlyItsOwnSignature: a sealed blob is taken without a
// signature check, as Seal made it even if the caller changed its entry
// since; the same Blob with other Data (a forged signature under the
// writer's hint, or a flipped byte) is checked in full and refused; and
// Seal refuses an entry whose hint names another key.
func TestSealSkipsOnlyItsOwnSignature(t *testing.T) {
	key := entry.NewPrivateKey([32]byte{1})
	lim := DefaultWireLimits().Entry
	build := func(payload string, hint entry.PublicKey) *entry.Entry {
		e, err := entry.NewBuilder(entry.IDOf([]byte("tree"))).Parents(entry.IDOf([]byte("p"))).Height(1).
			Store(entry.StoreNode{Name: "data", Data: []byte(payload)}).
			SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: hint}}).Build()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	sealed, err := Seal(build("a", key.Public()), key)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	refuseAll := func(entry.PublicKey, []byte, []byte) bool { calls++; return false }
	if _, err := checkBlob(sealed, lim, refuseAll); err != nil || calls != 0 {
		t.Fatalf("sealed blob: err %v after %d signature checks, want nil after 0", err, calls)
	}

	forged := build("b", key.Public())
	forged.Sig.Sig = base64.StdEncoding.EncodeToString(make([]byte, 64))
	data, id, err := entry.Encode(forged)
	if err != nil {
		t.Fatal(err)
	}
	swapped := sealed
	swapped.ID, swapped.Data, swapped.Entry = id, data, forged
	if _, err := checkBlob(swapped, lim, entry.PublicKey.Verify); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("sealed Blob with swapped Data: %v, want ErrInvalidEntry", err)
	}

	// The caller's entry changed after Seal: the machine takes Seal's copy,
	// which matches Data.
	sealed.Entry.Tree.Height = 99
	got, err := checkBlob(sealed, lim, refuseAll)
	if err != nil || got.Entry.Tree.Height != 1 {
		t.Fatalf("sealed blob with its entry changed: height %d, err %v; want Seal's copy", got.Entry.Tree.Height, err)
	}
	// Data changed in place: checked in full, and this signature fails.
	sealed.Data = bytes.Clone(sealed.Data)
	sealed.Data[len(sealed.Data)-1] ^= 1
	if _, err := checkBlob(sealed, lim, entry.PublicKey.Verify); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("sealed blob with its Data changed: %v, want ErrInvalidEntry", err)
	}

	other := entry.NewPrivateKey([32]byte{2}).Public()
	if _, err := Seal(build("c", other), key); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("Seal under another key's hint: %v, want ErrInvalidEntry", err)
	}
}
