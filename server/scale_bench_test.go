package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/internal/benchtable"
	"github.com/dashstream/dashstream/server/internal/wsbench"
)

// Scale benchmark (issue 13 §3): thousands of browsers following the live
// stream of one gateway. The gateway is the real server binary in its own
// process, reading a Kafka broker (kfake) that lives in the benchmark, so
// its RSS and CPU are its own and not the clients'. It runs once per size,
// whatever b.N: it is a scenario, bounded in count (scaleRecords records) and
// time (scaleDeadline).
const (
	scaleRate     = 50 // records per second, the live stream
	scaleRecords  = 500
	scaleDeadline = 4 * time.Minute
	scaleP99Goal  = 250 * time.Millisecond
	scaleIdleGoal = 64 << 10 // RSS bytes per idle connection
	scaleTopic    = "dashstream-events"
)

func BenchmarkScale_Clients(b *testing.B) {
	bin := buildServer(b, b.TempDir()) // once for both sizes
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchScale(b, bin, n) })
	}
}

// scaleResult is what one size measured.
type scaleResult struct {
	clients                   int
	expected, delivered       int64
	deliveredPerSec           float64
	p50, p99, max             time.Duration
	rssBase, rssIdle, rssBusy int64 // bytes: no clients, n idle, peak while streaming
	goroutinesPerConn         float64
	heapStackIdlePerConn      float64 // Go heap in use + stacks, per idle connection
	cpuCores                  float64 // gateway CPU while streaming, in cores
	clientCPUCores            float64 // the benchmark's (clients, broker, producer)
	machineBusy               float64 // the whole machine's CPU busy fraction while streaming
}

func benchScale(b *testing.B, bin string, n int) {
	if err := wsbench.RaiseFileLimit(uint64(2*n + 1024)); err != nil {
		b.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scaleDeadline)
	defer cancel()

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, scaleTopic))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	gw := startServerProcess(b, ctx, bin, "--kafka-brokers", strings.Join(cluster.ListenAddrs(), ","),
		"--max-connections-per-ip", strconv.Itoa(n+16))

	settle(ctx, 2*time.Second)
	r := scaleResult{clients: n, rssBase: gw.rss(b)}
	base := gw.metrics(b)

	clients := dialScaleClients(b, ctx, gw.wsURL(), n)
	defer func() {
		for _, c := range clients {
			c.ws.Close()
		}
	}()
	scaleWait(b, ctx, "every client counted by the gateway", func() bool {
		return gw.metrics(b)["websocket_connected_clients"] == float64(n)
	})
	settle(ctx, 3*time.Second)
	r.rssIdle = gw.rss(b)
	idle := gw.metrics(b)
	r.goroutinesPerConn = (idle["go_goroutines"] - base["go_goroutines"]) / float64(n)
	heapStack := func(m map[string]float64) float64 {
		return m["go_memstats_heap_inuse_bytes"] + m["go_memstats_stack_inuse_bytes"]
	}
	r.heapStackIdlePerConn = (heapStack(idle) - heapStack(base)) / float64(n)

	// Stream: every client reads every record, the benchmark samples the
	// gateway's RSS meanwhile.
	sent := make([]atomic.Int64, scaleRecords) // produce time of record i, in Unix ns
	// Reads run without a context of their own (a context per read costs a
	// registration, on the machine the gateway shares); the deadline closes
	// the sockets instead.
	stopWatchdog := context.AfterFunc(ctx, func() {
		for _, c := range clients {
			c.ws.Close()
		}
	})
	defer stopWatchdog()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.follow(scaleRecords, sent)
		}()
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DefaultProduceTopic(scaleTopic),
		kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()

	samplerDone := make(chan struct{})
	var peak atomic.Int64
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-samplerDone:
				return
			case <-t.C:
				if v, err := readRSS(gw.cmd.Process.Pid); err == nil && v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	cpu0, self0, mach0 := gw.cpu(b), selfCPU(), machineCPU(b)
	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(time.Second / scaleRate)
	for i := range scaleRecords {
		select {
		case <-tick.C:
		case <-ctx.Done():
			b.Fatalf("produced %d of %d records: %v", i, scaleRecords, ctx.Err())
		}
		v := scaleValue(b, i)
		sent[i].Store(time.Now().UnixNano())
		producer.Produce(ctx, &kgo.Record{Partition: int32(i % 4), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	tick.Stop()
	if err := producer.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu1, self1, mach1 := gw.cpu(b), selfCPU(), machineCPU(b)
	close(samplerDone)
	r.rssBusy = max(peak.Load(), r.rssIdle)
	r.cpuCores = (cpu1 - cpu0).Seconds() / elapsed.Seconds()
	r.clientCPUCores = (self1 - self0).Seconds() / elapsed.Seconds()
	r.machineBusy = 1 - float64(mach1.idle-mach0.idle)/float64(mach1.total-mach0.total)

	var lat []time.Duration
	for _, c := range clients {
		r.delivered += int64(len(c.lat))
		lat = append(lat, c.lat...)
		if c.err != nil && !errors.Is(c.err, errScaleDone) {
			b.Errorf("client: %v", c.err)
			break
		}
	}
	r.expected = int64(n) * scaleRecords
	r.deliveredPerSec = float64(r.delivered) / elapsed.Seconds()
	if len(lat) > 0 {
		slices.Sort(lat)
		r.p50, r.p99, r.max = percentile(lat, 0.50), percentile(lat, 0.99), lat[len(lat)-1]
	}
	r.report(b)
	gw.stop(b)
}

// report writes the figures as benchmark metrics and as BENCHTABLE lines.
func (r scaleResult) report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	idlePerConn := float64(r.rssIdle-r.rssBase) / float64(r.clients)
	busyPerConn := float64(r.rssBusy-r.rssBase) / float64(r.clients)
	b.ReportMetric(r.deliveredPerSec, "delivered/s")
	b.ReportMetric(float64(r.delivered)/float64(r.expected), "delivered-fraction")
	b.ReportMetric(ms(r.p50), "p50_ms")
	b.ReportMetric(ms(r.p99), "p99_ms")
	b.ReportMetric(ms(r.max), "max_ms")
	b.ReportMetric(idlePerConn/1024, "rss-KB/idle-conn")
	b.ReportMetric(busyPerConn/1024, "rss-KB/busy-conn")
	b.ReportMetric(r.heapStackIdlePerConn/1024, "heap+stack-KB/idle-conn")
	b.ReportMetric(float64(r.rssBase)/(1<<20), "rss-MB-no-clients")
	b.ReportMetric(r.goroutinesPerConn, "goroutines/conn")
	b.ReportMetric(r.cpuCores, "gateway-cpu-cores")
	b.ReportMetric(r.clientCPUCores, "bench-cpu-cores")
	b.ReportMetric(r.machineBusy, "machine-busy-fraction")
	b.ReportMetric(r.cpuCores*1e6/r.deliveredPerSec, "gateway-cpu-us/delivery")
	b.ReportMetric(0, "ns/op") // a scenario, not a per-op figure

	name := fmt.Sprintf("scale %d clients @%d rec/s", r.clients, scaleRate)
	benchtable.Print(name+" delivered", fmt.Sprintf("%d/%d (%.0f/s)", r.delivered, r.expected, r.deliveredPerSec), "-", "-", "all", r.delivered == r.expected)
	// The machine is shared: how busy it was (with everyone's work) says
	// whether the latency is the gateway's or the queue for a core.
	benchtable.Print(name+" p50 / p99", fmt.Sprintf("%.1f / %.1f ms", ms(r.p50), ms(r.p99)),
		fmt.Sprintf("machine %.0f%% busy", 100*r.machineBusy), "-", "p99 ≤ 250 ms", r.p99 <= scaleP99Goal)
	benchtable.Print(name+" RSS per idle conn", fmt.Sprintf("%.1f KB", idlePerConn/1024), "-", "-", "≤ 64 KB", idlePerConn <= scaleIdleGoal)
	benchtable.Print(name+" RSS per busy conn", fmt.Sprintf("%.1f KB", busyPerConn/1024), "-", "-", "-", true)
	benchtable.Print(name+" gateway CPU", fmt.Sprintf("%.2f cores, %.1f µs/delivery", r.cpuCores, r.cpuCores*1e6/r.deliveredPerSec),
		fmt.Sprintf("clients %.2f cores", r.clientCPUCores), "-", "-", true)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(p*float64(len(sorted)-1))]
}

// scaleValue is a ~1 KB DashStream event carrying its produce time.
func scaleValue(b *testing.B, i int) []byte {
	v, err := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header:    &pb.Header{ThreadId: fmt.Sprintf("scale-%d", i%4), Sequence: uint64(i/4 + 1), TimestampUs: time.Now().UnixMicro(), Type: pb.MessageType_MESSAGE_TYPE_EVENT, SchemaVersion: 1},
		EventType: pb.EventType_EVENT_TYPE_NODE_END, NodeId: "respond",
		Attributes: map[string]*pb.AttributeValue{"output": {Value: &pb.AttributeValue_StringValue{StringValue: strings.Repeat("lorem ipsum ", 80)}}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// scaleClient is one browser: it resumes from latest, then reads records
// and notes each one's produce-to-receipt latency. It is a wsbench client,
// which costs the machine the gateway runs on far less than a library's.
type scaleClient struct {
	ws  *wsbench.Conn
	lat []time.Duration
	err error
}

var errScaleDone = errors.New("all records read")

func dialScaleClients(b *testing.B, ctx context.Context, url string, n int) []*scaleClient {
	clients := make([]*scaleClient, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range 32 { // dialers at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n && failed.Load() == nil; i = int(next.Add(1)) - 1 {
				c, err := dialScaleClient(ctx, url)
				if err != nil {
					err = fmt.Errorf("client %d of %d: %w", i, n, err)
					failed.Store(&err)
					return
				}
				clients[i] = c
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		for _, c := range clients {
			if c != nil {
				c.ws.Close()
			}
		}
		b.Fatal(*err)
	}
	return clients
}

func dialScaleClient(ctx context.Context, url string) (*scaleClient, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, err := wsbench.Dial(dctx, url)
	if err != nil {
		return nil, err
	}
	c := &scaleClient{ws: ws, lat: make([]time.Duration, 0, scaleRecords)}
	stop := context.AfterFunc(dctx, func() { ws.Close() })
	defer stop()
	if err := ws.Write(wsbench.Text, control.NewPartitionResume(control.FromLatest, nil).AppendJSON(nil)); err != nil {
		ws.Close()
		return nil, fmt.Errorf("resume: %w", err)
	}
	for {
		op, data, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("waiting for replay_complete: %w", err)
		}
		if op == wsbench.Text && bytes.Contains(data, []byte(`"replay_complete"`)) {
			return c, nil
		}
	}
}

// follow reads until want records arrived or the socket closes; c.err says
// why it stopped. The record's produce time comes from sent, by its cursor
// (record i is offset i/4 of partition i%4), so the clients spend their CPU
// on the wire, not on decoding.
func (c *scaleClient) follow(want int, sent []atomic.Int64) {
	i := -1
	for len(c.lat) < want {
		op, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = fmt.Errorf("after %d records: %w", len(c.lat), err)
			return
		}
		if op == wsbench.Text {
			p, o, ok := parseCursor(data)
			if !ok {
				c.err = fmt.Errorf("after %d records: unexpected %s", len(c.lat), data)
				return
			}
			i = int(o)*4 + int(p)
			continue
		}
		now := time.Now()
		if i < 0 || i >= len(sent) {
			c.err = fmt.Errorf("after %d records: a value without a cursor of this run", len(c.lat))
			return
		}
		c.lat = append(c.lat, now.Sub(time.Unix(0, sent[i].Load())))
		i = -1
	}
	c.err = errScaleDone
}

// parseCursor reads {"type":"cursor","partition":P,"offset":"O"}.
func parseCursor(data []byte) (p, o int64, ok bool) {
	num := func(key string) (int64, bool) {
		_, rest, found := bytes.Cut(data, []byte(key))
		if !found {
			return 0, false
		}
		end := bytes.IndexAny(rest, ",}")
		if end < 0 {
			return 0, false
		}
		// Offsets travel as strings (64-bit), partitions as numbers.
		v, err := strconv.ParseInt(string(bytes.Trim(rest[:end], `" `)), 10, 64)
		return v, err == nil
	}
	if !bytes.Contains(data, []byte(`"cursor"`)) {
		return 0, 0, false
	}
	p, ok1 := num(`"partition":`)
	o, ok2 := num(`"offset":`)
	return p, o, ok1 && ok2
}

// serverProcess is the gateway binary running as a child process.
type serverProcess struct {
	cmd  *exec.Cmd
	addr string
	log  *os.File
	done chan error
}

// buildServer builds the gateway binary into dir.
func buildServer(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startServerProcess(b *testing.B, ctx context.Context, bin string, args ...string) *serverProcess {
	web := testWeb(b)
	data := b.TempDir()
	port := freePort(b)
	logf, err := os.Create(filepath.Join(data, "server.log"))
	if err != nil {
		b.Fatal(err)
	}
	args = append([]string{"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--web-dir", web,
		"--data-dir", data, "--schemas-path", filepath.Join(data, "schemas.json"), "--demo", "off"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &serverProcess{cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", port), log: logf, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	b.Cleanup(func() { s.stop(b) })
	scaleWait(b, ctx, "the gateway to be ready", func() bool {
		select {
		case err := <-s.done:
			s.done <- err
			b.Fatalf("gateway exited: %v\n%s", err, s.logTail())
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

func (s *serverProcess) wsURL() string { return "ws://" + s.addr + "/ws" }

// stop ends the gateway (SIGTERM, then SIGKILL after 20 s); idempotent.
func (s *serverProcess) stop(b *testing.B) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		err := <-s.done
		s.done <- err
		b.Errorf("gateway did not stop within 20 s of SIGTERM")
	}
	s.log.Close()
}

func (s *serverProcess) logTail() string {
	data, _ := os.ReadFile(s.log.Name())
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

func (s *serverProcess) rss(b *testing.B) int64 {
	v, err := readRSS(s.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// cpu is the gateway's user plus system CPU time so far.
func (s *serverProcess) cpu(b *testing.B) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line, in clock ticks (100 per second
	// on Linux).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// selfCPU is this process's user plus system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuTimes are the machine's CPU jiffies, all CPUs together.
type cpuTimes struct{ idle, total uint64 }

// machineCPU reads the first line of /proc/stat.
func machineCPU(b *testing.B) cpuTimes {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	var t cpuTimes
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseUint(f, 10, 64)
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t
}

// metrics reads the gateway's Prometheus gauges and counters without labels.
func (s *serverProcess) metrics(b *testing.B) map[string]float64 {
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// readRSS returns a process's resident set size (VmRSS) in bytes.
func readRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func freePort(b *testing.B) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// scaleWait polls cond until it holds; ctx only bounds a hang.
func scaleWait(b *testing.B, ctx context.Context, what string, cond func() bool) {
	b.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			b.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settle lets the gateway reach a steady state before a memory reading.
func settle(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
