package main

import (
	"bufio"
	"hash/fnv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/server/internal/redisserver"
)

// TestSoak runs the gateway as a process with the demo, Redis and a small
// embedded log (so retention works all the time) for DASHSTREAM_SOAK (a
// duration; `make soak` sets 30m) while one client stays connected and
// another reconnects with its cursors every 20 s. It samples the process's
// RSS, open fds and goroutines, and checks at the end that they stayed flat
// (the last third against the first, after a warm-up), that every record is
// accounted for (each client's offsets per partition run without a hole or
// a step back, the two agree on every record), and that the log's folder
// stayed within its bound. Skipped unless DASHSTREAM_SOAK is set.
func TestSoak(t *testing.T) {
	d := os.Getenv("DASHSTREAM_SOAK")
	if d == "" {
		t.Skip("set DASHSTREAM_SOAK=30m (make soak) to run the soak test")
	}
	total, err := time.ParseDuration(d)
	if err != nil || total < time.Minute {
		t.Fatalf("DASHSTREAM_SOAK=%q: want a duration of at least 1m", d)
	}
	rs := redisserver.Start(t)
	data := t.TempDir()
	const maxBytes = 1 << 20
	c := startChild(t, "--web-dir", testWeb(t), "--data-dir", data, "--schemas-path", filepath.Join(data, "schemas.json"),
		"--demo", "on", "--demo-rate", "40", "--redis-url", rs.URL(), "--embedded-max-bytes", strconv.Itoa(maxBytes),
		"--embedded-partitions", "4")
	stay := dialWS(t, c.base, resumeEarliest)
	moving := dialWS(t, c.base, resumeEarliest)
	stayL, movingL := newLedger(), newLedger()

	type sample struct {
		rss, fds, routines float64
	}
	var samples []sample
	began := time.Now()
	lastSample, lastReconnect := began, began
	maxDisk := int64(0)
	for time.Since(began) < total {
		target := stayL.n + stay.count() + 50
		stay.readUntil("live records", func() bool { return stayL.n+stay.count() >= target })
		stayL.take(stay)
		moving.readUntil("live records", func() bool { return movingL.n+moving.count() >= stayL.n-200 })
		movingL.take(moving)
		if time.Since(lastReconnect) >= 20*time.Second {
			moving.ws.CloseNow()
			moving = dialWS(t, c.base, resumeFrame(movingL.last, ""))
			lastReconnect = time.Now()
		}
		if time.Since(lastSample) >= min(10*time.Second, total/30) {
			m := scrape(t, c.base)
			maxDisk = max(maxDisk, dirBytes(filepath.Join(data, "kafka", "partitions")))
			samples = append(samples, sample{m["process_resident_memory_bytes"], m["process_open_fds"], m["go_goroutines"]})
			lastSample = time.Now()
		}
	}
	agree := 0
	for p, sums := range stayL.sums {
		for o, h := range sums {
			if h2, ok := movingL.sums[p][o]; ok {
				if h2 != h {
					t.Errorf("partition %d offset %d: the two clients got different records", p, o)
				}
				agree++
			}
		}
	}
	for name, l := range map[string]*ledger{"staying": stayL, "reconnecting": movingL} {
		if l.back > 0 || l.holes > l.gaps {
			t.Errorf("%s client: %d steps back, %d holes, %d gap frames", name, l.back, l.holes, l.gaps)
		}
	}

	n := len(samples)
	if n < 6 {
		t.Fatalf("only %d samples", n)
	}
	warm := max(1, n/6)
	third := (n - warm) / 3
	first, last := samples[warm:warm+third], samples[n-third:]
	med := func(s []sample, f func(sample) float64) float64 {
		v := make([]float64, len(s))
		for i := range s {
			v[i] = f(s[i])
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rss0, rss1 := med(first, func(s sample) float64 { return s.rss }), med(last, func(s sample) float64 { return s.rss })
	fd0, fd1 := med(first, func(s sample) float64 { return s.fds }), med(last, func(s sample) float64 { return s.fds })
	g0, g1 := med(first, func(s sample) float64 { return s.routines }), med(last, func(s sample) float64 { return s.routines })
	t.Logf("soak %v: staying client %d records (%d holes, %d back, %d gap frames); reconnecting client %d records (%d holes, %d back); %d records compared between them, all equal; %d samples",
		total, stayL.n, stayL.holes, stayL.back, stayL.gaps, movingL.n, movingL.holes, movingL.back, agree, n)
	t.Logf("RSS %.1f -> %.1f MiB; open fds %.0f -> %.0f; goroutines %.0f -> %.0f (medians of the first and last third after warm-up); log folder peak %d bytes (bound %d per partition)",
		rss0/(1<<20), rss1/(1<<20), fd0, fd1, g0, g1, maxDisk, maxBytes)
	if rss1 > rss0*1.25+16<<20 {
		t.Errorf("RSS grew from %.1f to %.1f MiB", rss0/(1<<20), rss1/(1<<20))
	}
	if fd1 > fd0+8 {
		t.Errorf("open fds grew from %.0f to %.0f", fd0, fd1)
	}
	if g1 > g0+25 {
		t.Errorf("goroutines grew from %.0f to %.0f", g0, g1)
	}
	// Four partitions (and the empty DLQ's), each within its bound between
	// trims, with room for the traffic of one trim interval.
	if limit := int64(4 * maxBytes * 5 / 4); maxDisk > limit {
		t.Errorf("the log's folder reached %d bytes, over %d", maxDisk, limit)
	}
}

// ledger accounts for a client's records without keeping them: per
// partition the last offset, a hash per offset, and counts of holes and
// steps back.
type ledger struct {
	last                 map[int32]int64
	sums                 map[int32]map[int64]uint64
	n, holes, back, gaps int
}

func newLedger() *ledger {
	return &ledger{last: map[int32]int64{}, sums: map[int32]map[int64]uint64{}}
}

// take moves what c received into the ledger.
func (l *ledger) take(c *wsClient) {
	for _, r := range c.arrivals {
		if prev, ok := l.last[r.p]; ok {
			switch {
			case r.o <= prev:
				l.back++
			case r.o != prev+1:
				l.holes++
			}
		}
		l.last[r.p] = r.o
		if l.sums[r.p] == nil {
			l.sums[r.p] = map[int64]uint64{}
		}
		h := fnv.New64a()
		h.Write(r.v)
		l.sums[r.p][r.o] = h.Sum64()
		l.n++
	}
	for _, m := range c.controls {
		if m["type"] == "gap" {
			l.gaps++
		}
	}
	c.arrivals, c.controls = c.arrivals[:0], c.controls[:0]
	c.recs = map[int32]map[int64][]byte{}
}

func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = f
		}
	}
	return out
}

func dirBytes(dir string) (n int64) {
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}
