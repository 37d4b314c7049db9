package dag

// The golden harness is an internal test so that `missing` can print how many
// nodes the walk popped: the number that shows the diff is not O(history).
// Regenerate with `go test ./kernel/dag -rewrite` (the flag is datadriven's).

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel/entry"
)

func TestDiffGolden(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := newHarness()
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			return h.handle(t, td)
		})
	})
}

// harness maps short names to IDs and keeps its own copy of the edges, from
// which it checks Missing against plain reachability on every call.
type harness struct {
	d       *DAG
	names   map[entry.ID]string
	parents map[string][]string
}

func newHarness() *harness {
	return &harness{d: New(), names: map[entry.ID]string{}, parents: map[string][]string{}}
}

// nameID maps a short name to its ID: the standard ID of the name's bytes,
// or, for names starting with "raw", a non-standard CID (codec raw, SHA-256).
func nameID(name string) entry.ID {
	if !strings.HasPrefix(name, "raw") {
		return entry.IDOf([]byte(name))
	}
	sum := sha256.Sum256([]byte(name))
	id, err := entry.IDFromBytes(append([]byte{0x01, 0x55, 0x12, 0x20}, sum[:]...))
	if err != nil {
		panic(err)
	}
	return id
}

func (h *harness) handle(t *testing.T, td *datadriven.TestData) string {
	switch td.Cmd {
	case "dag":
		// dag
		// a:
		// b: a
		// d: b c
		// ----
		// Starts a new DAG and adds one entry per line, parents after the colon.
		*h = *newHarness()
		return h.add(td.Input)
	case "add":
		// add
		// e: d
		// ----
		// Like dag, but adds to the current DAG.
		return h.add(td.Input)
	case "chain":
		// chain prefix=c n=1000 [parent=a]
		// Appends c1..cN, each the child of the one before, c1 of parent.
		return h.chain(t, td)
	case "missing":
		// missing from=(d) have=(c) [limit=2]
		return h.missing(t, td)
	case "tips":
		// tips
		return h.tips()
	case "frontier":
		// frontier max=8
		var n int
		td.ScanArgs(t, "max", &n)
		return h.list(h.idNames(h.d.Frontier(n)))
	case "range":
		// range start=0 limit=3
		return h.rangeCmd(t, td)
	}
	t.Fatalf("unknown directive %q", td.Cmd)
	return ""
}

func (h *harness) add(input string) string {
	var b strings.Builder
	for line := range strings.Lines(input) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			fmt.Fprintf(&b, "%s: want `name: parents...`\n", strings.TrimSpace(line))
			continue
		}
		name = strings.TrimSpace(name)
		ps := strings.Fields(rest)
		ids := make([]entry.ID, len(ps))
		for i, p := range ps {
			ids[i] = nameID(p)
		}
		n, added, err := h.d.Add(nameID(name), ids)
		switch {
		case err != nil:
			fmt.Fprintf(&b, "%s: %s\n", name, errName(err))
		case !added:
			fmt.Fprintf(&b, "%s: present n%d\n", name, n)
		default:
			h.names[nameID(name)] = name
			h.parents[name] = ps
			fmt.Fprintf(&b, "%s: n%d depth %d\n", name, n, h.d.Depth(n))
		}
	}
	return b.String()
}

func errName(err error) string {
	for _, e := range []error{ErrMissingParent, ErrInvalid, ErrFull} {
		if errors.Is(err, e) {
			return "error " + strings.TrimPrefix(e.Error(), "dag: ")
		}
	}
	return "error " + err.Error()
}

func (h *harness) chain(t *testing.T, td *datadriven.TestData) string {
	var prefix, parent string
	var n int
	td.ScanArgs(t, "prefix", &prefix)
	td.ScanArgs(t, "n", &n)
	td.MaybeScanArgs(t, "parent", &parent)
	for i := 1; i <= n; i++ {
		name := prefix + strconv.Itoa(i)
		var ps []string
		if parent != "" {
			ps = []string{parent}
		}
		if _, _, err := h.d.Add(nameID(name), idsOf(ps)); err != nil {
			t.Fatalf("chain %s: %v", name, err)
		}
		h.names[nameID(name)], h.parents[name] = name, ps
		parent = name
	}
	return fmt.Sprintf("len %d, tips %d\n", h.d.Len(), h.d.TipCount())
}

func idsOf(names []string) []entry.ID {
	ids := make([]entry.ID, len(names))
	for i, p := range names {
		ids[i] = nameID(p)
	}
	return ids
}

// nodes maps the values of argument key to Nodes; names that are not in the
// DAG are left out and returned apart, as a caller drops unknown peer tips.
func (h *harness) nodes(td *datadriven.TestData, key string) (nodes []Node, unknown []string) {
	arg, ok := td.Arg(key)
	if !ok {
		return nil, nil
	}
	for _, v := range arg.Vals {
		for name := range strings.FieldsSeq(v) {
			if n, ok := h.d.Lookup(nameID(name)); ok {
				nodes = append(nodes, n)
			} else {
				unknown = append(unknown, name)
			}
		}
	}
	return nodes, unknown
}

func (h *harness) missing(t *testing.T, td *datadriven.TestData) string {
	from, unknownFrom := h.nodes(td, "from")
	have, unknownHave := h.nodes(td, "have")
	limit := 0
	td.MaybeScanArgs(t, "limit", &limit)
	out, more := h.d.Missing(from, have, limit)
	all, walked := h.d.missing(from, have)
	h.checkMissing(t, from, have, all)
	if limit > 0 && (!slices.Equal(out, all[:min(limit, len(all))]) || more != (len(all) > limit)) {
		t.Fatalf("limit %d: got %v more=%v, want a prefix of %v", limit, out, more, all)
	}
	var b strings.Builder
	if len(unknownFrom)+len(unknownHave) > 0 {
		fmt.Fprintf(&b, "unknown: %s\n", strings.Join(append(unknownFrom, unknownHave...), " "))
	}
	fmt.Fprintf(&b, "missing: %s\n", h.nodeNames(out))
	if more {
		b.WriteString("more\n")
	}
	fmt.Fprintf(&b, "walked %d of %d\n", walked, h.d.Len())
	return b.String()
}

// checkMissing compares a Missing result with reachability over the
// harness's own copy of the edges, and checks its order.
func (h *harness) checkMissing(t *testing.T, from, have, got []Node) {
	t.Helper()
	reach := func(ns []Node) map[string]bool {
		seen := map[string]bool{}
		var stack []string
		for _, n := range ns {
			stack = append(stack, h.names[h.d.ID(n)])
		}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !seen[x] {
				seen[x] = true
				stack = append(stack, h.parents[x]...)
			}
		}
		return seen
	}
	r, hv := reach(from), reach(have)
	want := 0
	for x := range r {
		if !hv[x] {
			want++
		}
	}
	for i, n := range got {
		if x := h.names[h.d.ID(n)]; !r[x] || hv[x] {
			t.Fatalf("Missing returned %s, which is not in reach(from) - reach(have)", x)
		}
		if i > 0 && cmpDepthNode(h.d, got[i-1], n) >= 0 {
			t.Fatalf("Missing is not in ascending (depth, node) order at %d", i)
		}
	}
	if len(got) != want {
		t.Fatalf("Missing returned %d nodes, reachability says %d", len(got), want)
	}
}

func cmpDepthNode(d *DAG, a, b Node) int {
	if c := int64(d.Depth(a)) - int64(d.Depth(b)); c != 0 {
		return int(c)
	}
	return int(int64(a) - int64(b))
}

func (h *harness) tips() string {
	tips := h.d.Tips()
	if len(tips) != h.d.TipCount() {
		return fmt.Sprintf("Tips has %d, TipCount says %d\n", len(tips), h.d.TipCount())
	}
	for _, id := range tips {
		if n, ok := h.d.Lookup(id); !ok || !h.d.IsTip(n) {
			return fmt.Sprintf("tip %s: IsTip is false\n", h.names[id])
		}
	}
	return h.list(h.idNames(tips))
}

func (h *harness) rangeCmd(t *testing.T, td *datadriven.TestData) string {
	var start, limit int
	td.ScanArgs(t, "start", &start)
	td.ScanArgs(t, "limit", &limit)
	out, next := h.d.Range(Node(start), limit)
	return fmt.Sprintf("%s\nnext %d\n", h.nodeNames(out), next)
}

func (h *harness) idNames(ids []entry.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = h.names[id]
	}
	return out
}

func (h *harness) nodeNames(ns []Node) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = h.names[h.d.ID(n)]
	}
	return h.join(out)
}

func (h *harness) list(names []string) string { return h.join(names) + "\n" }

// join prints a list of names, or "(none)" so that no output is blank.
func (h *harness) join(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, " ")
}
