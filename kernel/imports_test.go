package kernel_test

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The kernel is pure (STYLE.md 2.1): no clock, no I/O, no global randomness,
// no goroutines. These tests enforce that on every package under kernel/, as
// pebble's TestForbiddenImports and TigerBeetle's tidy.zig do.

const modulePath = "github.com/eidsync/eidsync"

// kernelStdlib is the allowlist of pure standard-library packages.
var kernelStdlib = []string{
	"bytes", "cmp", "crypto/ed25519", "crypto/sha256", "encoding/base32",
	"encoding/base64", "encoding/binary", "encoding/hex", "encoding/json",
	"errors", "fmt", "maps", "math", "math/bits", "math/rand/v2", "slices", "sort",
	"strconv", "strings", "unicode/utf8",
}

// kernelThirdParty are the pure, deterministic codec libraries the entry
// format needs: no I/O, no mutable global state.
var kernelThirdParty = []string{
	"github.com/fxamacker/cbor/v2",
	"github.com/zeebo/blake3",
	// Ed25519 arithmetic only, for speed; kernel/entry/expand.go keeps
	// crypto/ed25519 the judge of what verifies.
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519",
}

// testOnly may appear in kernel test files besides the standard library.
var testOnly = []string{
	"github.com/cockroachdb/datadriven",
	"pgregory.net/rapid",
	modulePath + "/sim",
}

// functionLinesMax is TigerStyle's 70-line limit on function bodies.
const functionLinesMax = 70

func kernelDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func allowedInKernel(path string) bool {
	return slices.Contains(kernelStdlib, path) || slices.Contains(kernelThirdParty, path) ||
		path == modulePath+"/kernel" || strings.HasPrefix(path, modulePath+"/kernel/")
}

func allowedInKernelTest(path string) bool {
	if allowedInKernel(path) || slices.Contains(testOnly, path) {
		return true
	}
	// Any standard-library package (no dot in the first element) may serve a
	// test, but no adapter, storage or network library may.
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestKernelImports(t *testing.T) {
	checked := 0
	for _, dir := range kernelDirs(t) {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				continue
			}
			t.Fatalf("%s: %v", dir, err)
		}
		checked++
		for _, imp := range pkg.Imports {
			if !allowedInKernel(imp) {
				t.Errorf("kernel/%s imports %q, which the kernel allowlist (STYLE.md 2.1) forbids", dir, imp)
			}
		}
		for _, imp := range append(slices.Clone(pkg.TestImports), pkg.XTestImports...) {
			if !allowedInKernelTest(imp) {
				t.Errorf("kernel/%s tests import %q, which kernel tests may not use", dir, imp)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no kernel package found: the test is not looking in the right place")
	}
}

func TestKernelSourceRules(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	for _, dir := range kernelDirs(t) {
		matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range matches {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files++
			for _, v := range sourceViolations(fset, f) {
				t.Errorf("kernel/%s", v)
			}
		}
	}
	if files == 0 {
		t.Fatal("no kernel source file found")
	}
}

// sourceViolations lists goroutines, channels, select, package-level
// math/rand/v2 functions and over-long functions in one file.
func sourceViolations(fset *token.FileSet, f *ast.File) []string {
	var out []string
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	randName := ""
	for _, imp := range f.Imports {
		if imp.Path.Value == `"math/rand/v2"` {
			randName = "rand"
			if imp.Name != nil {
				randName = imp.Name.Name
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n, "go statement: the kernel starts no goroutines")
		case *ast.SelectStmt:
			report(n, "select statement: the kernel uses no channels")
		case *ast.ChanType:
			report(n, "channel type: the kernel uses no channels")
		case *ast.SendStmt:
			report(n, "channel send: the kernel uses no channels")
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				report(n, "channel receive: the kernel uses no channels")
			}
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok && randName != "" && id.Name == randName && !seededRand(n.Sel.Name) {
				report(n, "%s.%s: only explicitly seeded generators (rand.New with PCG or ChaCha8)", randName, n.Sel.Name)
			}
		case *ast.FuncDecl:
			if n.Body != nil {
				lines := fset.Position(n.Body.Rbrace).Line - fset.Position(n.Body.Lbrace).Line - 1
				if lines > functionLinesMax {
					report(n, "func %s has %d lines, limit %d", n.Name.Name, lines, functionLinesMax)
				}
			}
		}
		return true
	})
	return out
}

func seededRand(name string) bool {
	switch name {
	case "New", "NewPCG", "NewChaCha8", "Rand", "PCG", "ChaCha8", "Source":
		return true
	}
	return false
}

// TestSourceRulesCatch shows the checker is able to fail: a file with each
// forbidden construct yields one violation per construct.
func TestSourceRulesCatch(t *testing.T) {
	src := `package bad
import "math/rand/v2"
func f(c chan int) {
	go f(c)
	c <- 1
	<-c
	select {}
	_ = rand.IntN(3)
	_ = rand.New(rand.NewPCG(1, 2))
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "bad.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := sourceViolations(fset, f)
	for _, want := range []string{"go statement", "channel type", "channel send", "channel receive", "select statement", "rand.IntN"} {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, want) }) {
			t.Errorf("checker missed %q; got %q", want, got)
		}
	}
	if len(got) != 6 {
		t.Errorf("got %d violations, want 6: %q", len(got), got)
	}
	long := "package long\nfunc g() {\n" + strings.Repeat("\t_ = 1\n", functionLinesMax+1) + "}\n"
	f, err = parser.ParseFile(fset, "long.go", long, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := sourceViolations(fset, f); len(got) != 1 {
		t.Errorf("over-long function: got %q", got)
	}
	if allowedInKernel("time") || allowedInKernel("go.etcd.io/bbolt") || allowedInKernelTest("github.com/quic-go/quic-go") {
		t.Error("allowlist admits a banned package")
	}
}
