// Command benchtable ends `make bench` with one table: it copies the
// benchmark output from standard input to standard output, then prints one
// row per figure — name, ours, baseline or peer, ratio, goal, met — from two
// sources: the lines benchmarks print themselves ("BENCHTABLE name | ours |
// peer | ratio | goal | met", for figures measured inside one benchmark,
// such as a peer in the same browser), and the pairs of standard benchmark
// results listed in figures below (ours and its baseline measured in the
// same run). A benchmark that ran more than once counts with its median.
//
// Usage: go test -bench ... | go run ./tools/benchtable [-wasm web/app.wasm.br]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// figure compares ours with a baseline from the same run. Keys are
// "goos/BenchmarkName" and a metric unit as go test prints it.
type figure struct {
	name         string
	ours, base   string // benchmark keys; base "" for a figure with a goal only
	unit         string
	higherBetter bool
	goal         float64 // on the ratio (ours vs base, >1 = ours better), or on ours alone when base is ""
	goalText     string
}

var figures = []figure{
	{"JSON Patch, 10 ops on 100 KB: tree vs evanphx/json-patch", "linux/BenchmarkApply100KB_Tree", "linux/BenchmarkApply100KB_Evanphx", "ns/op", false, 5, "≥ 5×"},
	{"canonical SHA-256 of 100 KB: Sum vs encoding/json Marshal", "linux/BenchmarkSum100KB", "linux/BenchmarkSum100KB_EncodingJSONMarshal", "ns/op", false, 1, "≥ 1×"},
	{"JSON parse 100 KB: jsontree vs encoding/json Unmarshal", "linux/BenchmarkParse100KB", "linux/BenchmarkParse100KB_EncodingJSON", "ns/op", false, 0, "-"},
	{"fan-out 10 clients × 1 KB: hub vs bare coder/websocket loop", "linux/BenchmarkFanout_Hub", "linux/BenchmarkFanout_BareWebsocket", "deliveries/s", true, 0.7, "≥ 0.7×"},
	{"fast client beside a stuck one vs alone", "linux/BenchmarkFastClient_BesideAStuckOne", "linux/BenchmarkFastClient_Alone", "records/s", true, 0.9, "≥ 0.9×"},
	{"resume from memory (records/s)", "linux/BenchmarkResume_Memory", "", "records/s", true, 100_000, "≥ 100k/s"},
	{"resume from Redis (records/s)", "linux/BenchmarkResume_Redis", "", "records/s", true, 30_000, "≥ 30k/s"},
	{"resume from Redis: round trips per durable call", "linux/BenchmarkResume_Redis", "", "redis-round-trips/call", false, 1, "≤ 1"},
	{"produce → client p99 at 1,000 records/s × 10 clients (ms)", "linux/BenchmarkE2ELatency_1000PerSec10Clients", "", "p99_ms", false, 20, "≤ 20 ms"},
	{"run store heap, 100 runs × 1,000 messages (MB)", "linux/BenchmarkFollow100Runs1000Msgs", "", "heapMB", false, 0, "-"},
	{"timeline of a 5,600-message run: BuildWaterfall vs EventRows (ns)", "linux/BenchmarkBuildWaterfall", "linux/BenchmarkEventRows_Baseline", "ns/op", false, 0, "-"},
	{"small diffs applied, Chromium wasm vs native (diffs/s)", "js/BenchmarkApply_SmallDiff", "linux/BenchmarkApply_SmallDiff", "diffs/s", true, 0, "-"},
}

type row struct{ name, ours, peer, ratio, goal, met string }

func main() {
	wasm := flag.String("wasm", "", "the brotli app.wasm whose size is checked against its 2.5 MB budget")
	flag.Parse()
	results, rows, err := read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	for _, f := range figures {
		if r, ok := f.row(results); ok {
			rows = append(rows, r)
		}
	}
	if *wasm != "" {
		if st, err := os.Stat(*wasm); err == nil {
			mb := float64(st.Size()) / 1e6
			rows = append(rows, row{"app.wasm, brotli", fmt.Sprintf("%.2f MB", mb), "-", "-", "≤ 2.5 MB", yes(mb <= 2.5)})
		}
	}
	print(os.Stdout, rows)
}

// read copies in to out, collecting benchmark results by key and unit and
// the BENCHTABLE rows.
func read(in io.Reader, out io.Writer) (map[string]map[string][]float64, []row, error) {
	results := map[string]map[string][]float64{}
	var rows []row
	goos := "linux"
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		switch {
		case strings.HasPrefix(line, "goos: "):
			goos = strings.TrimPrefix(line, "goos: ")
		case strings.HasPrefix(line, "BENCHTABLE "):
			f := strings.Split(strings.TrimPrefix(line, "BENCHTABLE "), " | ")
			if len(f) == 6 {
				rows = append(rows, row{f[0], f[1], f[2], f[3], f[4], f[5]})
			}
		case strings.HasPrefix(line, "Benchmark"):
			name, metrics, ok := parse(line)
			if !ok {
				continue
			}
			key := goos + "/" + name
			if results[key] == nil {
				results[key] = map[string][]float64{}
			}
			for unit, v := range metrics {
				results[key][unit] = append(results[key][unit], v)
			}
		}
	}
	return results, rows, sc.Err()
}

// parse reads "BenchmarkX-2  N  v unit  v unit ..." (the -N suffix is
// dropped: it is GOMAXPROCS).
func parse(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return "", nil, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	m := map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		m[f[i+1]] = v
	}
	return name, m, true
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func (f figure) row(results map[string]map[string][]float64) (row, bool) {
	ov, ok := results[f.ours][f.unit]
	if !ok {
		return row{}, false
	}
	ours := median(ov)
	if f.base == "" {
		met := ours >= f.goal
		if !f.higherBetter {
			met = ours <= f.goal
		}
		if f.goalText == "-" {
			met = true
		}
		return row{f.name, num(ours, f.unit), "-", "-", f.goalText, yes(met)}, true
	}
	bv, ok := results[f.base][f.unit]
	if !ok {
		return row{}, false
	}
	base := median(bv)
	ratio := ours / base
	if !f.higherBetter {
		ratio = base / ours
	}
	return row{f.name, num(ours, f.unit), num(base, f.unit), fmt.Sprintf("%.2f×", ratio), f.goalText, yes(f.goalText == "-" || ratio >= f.goal)}, true
}

func num(v float64, unit string) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM %s", v/1e6, unit)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk %s", v/1e3, unit)
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	default:
		return fmt.Sprintf("%.3g %s", v, unit)
	}
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func print(w io.Writer, rows []row) {
	fmt.Fprintln(w, "\n## make bench: one line per figure (ours vs the baseline or peer measured in the same run)")
	fmt.Fprintln(w, "| figure | ours | baseline or peer | ratio | goal | met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.name, r.ours, r.peer, r.ratio, r.goal, r.met)
	}
}
