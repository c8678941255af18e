// Command wasmsize reports where the bytes of a Go wasm binary go: the size
// of every section, and the code section per package (or per function),
// named from the name section. Build without -s -w to keep that section:
//
//	GOOS=js GOARCH=wasm go build -o /tmp/app.wasm ./wasm
//	go run ./tools/wasmsize /tmp/app.wasm             # sections, top packages
//	go run ./tools/wasmsize -funcs app_ui /tmp/app.wasm  # top functions of a package
//	go run ./tools/wasmsize old.wasm new.wasm          # what grew, per package
//
// Package paths appear as the name section spells them: "a/b.c" is "a_b.c".
// Hand-written rather than twiggy or wabt: neither is packaged in Debian, and
// this is the one table we need.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

func main() {
	top := flag.Int("n", 40, "rows to print")
	funcs := flag.String("funcs", "", "list functions, not packages, of the packages whose name starts with this")
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-n N] [-funcs PKG] a.wasm [b.wasm]")
		os.Exit(2)
	}
	var mods []*Module
	for _, path := range flag.Args() {
		b, err := os.ReadFile(path)
		if err == nil {
			var m *Module
			m, err = Parse(b)
			mods = append(mods, m)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "wasmsize: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
	table := func(m *Module) map[string]int {
		if *funcs != "" {
			return m.Funcs(*funcs)
		}
		return m.Packages()
	}
	if len(mods) == 1 {
		print(sorted(prefixed("section ", mods[0].Sections)), *top)
		fmt.Println()
		print(sorted(table(mods[0])), *top)
		return
	}
	d := diff(prefixed("section ", mods[0].Sections), prefixed("section ", mods[1].Sections))
	for k, v := range diff(table(mods[0]), table(mods[1])) {
		d[k] = v
	}
	for i, e := range sorted(d) {
		if i >= *top {
			break
		}
		fmt.Printf("%+10d  %s\n", e.v, e.k)
	}
}

// Module is what wasmsize reads of a wasm module.
type Module struct {
	Sections  map[string]int // section name ("code", "custom:name") -> payload bytes
	FuncBytes map[string]int // function name -> body bytes (one entry per name)
}

// Packages sums the function bodies per package.
func (m *Module) Packages() map[string]int {
	out := map[string]int{}
	for fn, n := range m.FuncBytes {
		out[PackageOf(fn)] += n
	}
	return out
}

// Funcs returns the functions of the packages whose name starts with prefix.
func (m *Module) Funcs(prefix string) map[string]int {
	out := map[string]int{}
	for fn, n := range m.FuncBytes {
		if strings.HasPrefix(PackageOf(fn), prefix) {
			out[fn] = n
		}
	}
	return out
}

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"}

// reader reads a wasm byte stream; the first error sticks and every later
// read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.b = nil
}

func (r *reader) uleb() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if len(r.b) == 0 {
			r.fail("truncated LEB128")
			return 0
		}
		c := r.b[0]
		r.b = r.b[1:]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.fail("LEB128 longer than 64 bits")
	return 0
}

func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail("%d bytes wanted, %d left", n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) name() string { return string(r.bytes(r.uleb())) }

// Parse reads a wasm module's sections, function bodies and function names.
// Functions without a name are called funcN (N their index).
func Parse(b []byte) (*Module, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, fmt.Errorf("not a wasm module")
	}
	m := &Module{Sections: map[string]int{}, FuncBytes: map[string]int{}}
	var bodies []int
	names := map[uint64]string{}
	var imported uint64
	r := &reader{b: b[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sec := &reader{b: r.bytes(r.uleb())}
		if r.err != nil {
			break
		}
		size := len(sec.b)
		name := fmt.Sprintf("unknown(%d)", id)
		if int(id) < len(sectionNames) {
			name = sectionNames[id]
		}
		switch id {
		case 0:
			name = "custom:" + sec.name()
			if name == "custom:name" {
				readNames(sec, names)
			}
		case 2:
			imported = countImportedFuncs(sec)
		case 10:
			for n := sec.uleb(); n > 0 && sec.err == nil; n-- {
				l := sec.uleb()
				sec.bytes(l)
				bodies = append(bodies, int(l))
			}
		}
		if sec.err != nil {
			return nil, fmt.Errorf("section %s: %w", name, sec.err)
		}
		m.Sections[name] += size
	}
	if r.err != nil {
		return nil, r.err
	}
	for i, n := range bodies {
		idx := imported + uint64(i)
		fn, ok := names[idx]
		if !ok {
			fn = fmt.Sprintf("func%d", idx)
		}
		m.FuncBytes[fn] += n
	}
	return m, nil
}

// countImportedFuncs counts the function imports: they come first in the
// function index space that the name section uses.
func countImportedFuncs(r *reader) uint64 {
	var funcs uint64
	limits := func() {
		if r.byte()&1 != 0 {
			r.uleb()
		}
		r.uleb()
	}
	for n := r.uleb(); n > 0 && r.err == nil; n-- {
		r.name() // module
		r.name() // field
		switch kind := r.byte(); kind {
		case 0: // function: type index
			r.uleb()
			funcs++
		case 1: // table: element type, limits
			r.byte()
			limits()
		case 2: // memory: limits
			limits()
		case 3: // global: value type, mutability
			r.bytes(2)
		default:
			r.fail("import kind %d", kind)
		}
	}
	return funcs
}

// readNames reads the function names (subsection 1) of a name section.
func readNames(r *reader, out map[uint64]string) {
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sub := &reader{b: r.bytes(r.uleb())}
		if id != 1 {
			continue
		}
		for n := sub.uleb(); n > 0 && sub.err == nil; n-- {
			idx := sub.uleb()
			out[idx] = sub.name()
		}
		if sub.err != nil {
			r.fail("function names: %v", sub.err)
		}
	}
}

// domain matches a leading module domain as the name section spells it
// ("github.com_"): the only place a package path holds a dot.
var domain = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+_`)

// PackageOf returns the package of a function name from the name section,
// such as "github.com_x_y" for "github.com_x_y.__T_.M" or "fmt" for
// "fmt.Sprintf"; equality and hash functions count for their type's package.
func PackageOf(fn string) string {
	s := fn
	for _, pre := range []string{"type:.eq.", "type:.hash.", "type_.eq.", "type_.hash."} {
		s = strings.TrimPrefix(s, pre)
	}
	start := 0
	// "runtime.mapassign_faststr" looks like a domain too; a real one has a
	// package and a function after it.
	if loc := domain.FindStringIndex(s); loc != nil && strings.IndexByte(s[loc[1]:], '.') > 0 {
		start = loc[1]
	}
	dot := strings.IndexByte(s[start:], '.')
	if dot < 0 {
		return s
	}
	return s[:start+dot]
}

type kv struct {
	k string
	v int
}

func prefixed(p string, m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[p+k] = v
	}
	return out
}

func diff(a, b map[string]int) map[string]int {
	d := map[string]int{}
	for k, v := range b {
		d[k] += v
	}
	for k, v := range a {
		d[k] -= v
	}
	for k, v := range d {
		if v == 0 {
			delete(d, k)
		}
	}
	return d
}

// sorted orders by absolute size, largest first, then by name.
func sorted(m map[string]int) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	abs := func(v int) int {
		if v < 0 {
			return -v
		}
		return v
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := abs(out[i].v), abs(out[j].v); a != b {
			return a > b
		}
		return out[i].k < out[j].k
	})
	return out
}

func print(rows []kv, top int) {
	for i, e := range rows {
		if i >= top {
			break
		}
		fmt.Printf("%10d  %s\n", e.v, e.k)
	}
}
