package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/coder/websocket"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/config"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testWeb writes a web folder with a fake app.wasm and its precompressed
// siblings, plus the real static assets.
func testWeb(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	wasm := bytes.Repeat([]byte("\x00asm fake wasm "), 1000)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.wasm", wasm)
	// The server serves a sibling only when it decompresses to app.wasm.
	var br bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write(wasm)
	bw.Close()
	write("app.wasm.br", br.Bytes())
	for _, name := range []string{"app.css", "icon.svg", "icon.png"} {
		b, err := os.ReadFile(filepath.Join("..", "web", name))
		if err != nil {
			t.Fatal(err)
		}
		write(name, b)
	}
	return dir
}

// startGateway starts the whole gateway as `make run` would, on temporary
// folders, and serves it with httptest.
func startGateway(t testing.TB, web string, args ...string) (*gateway, *httptest.Server) {
	t.Helper()
	data := t.TempDir()
	cfg, err := config.Load(append([]string{"--web-dir", web, "--data-dir", data, "--schemas-path", filepath.Join(data, "schemas.json"), "--demo", "off"}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := start(ctx, cfg, quiet)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.handler)
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		gw.closeClients(sctx)
		srv.Close()
		cancel()
		gw.stop(sctx)
	})
	return gw, srv
}

func get(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGateway_HTTPSurface(t *testing.T) {
	_, srv := startGateway(t, testWeb(t))
	if resp, body := get(t, srv.URL+"/healthz", nil); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	eventually(t, "/readyz 200", func() bool { resp, _ := get(t, srv.URL+"/readyz", nil); return resp.StatusCode == 200 })

	_, body := get(t, srv.URL+"/health", nil)
	var health map[string]any
	if err := json.Unmarshal(body, &health); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"status", "metrics", "replay_buffer", "kafka_status", "websocket_status"} {
		if _, ok := health[key]; !ok {
			t.Errorf("/health lacks %q: %s", key, body)
		}
	}
	if health["status"] != "waiting" {
		t.Errorf("an idle topic is %q, want waiting (not degraded)", health["status"])
	}

	_, body = get(t, srv.URL+"/version", nil)
	var version map[string]any
	json.Unmarshal(body, &version)
	// The log's incarnation sits in the namespace's cluster part (v2_).
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(version["resume_namespace"].(string), "v2_"))
	inc, _ := version["log_incarnation"].(string)
	if inc == "" || !strings.HasPrefix(string(raw), "cluster=log."+inc+";topic=dashstream-events;") {
		t.Errorf("resume_namespace %s (%q) does not carry the incarnation %q", version["resume_namespace"], raw, inc)
	}
	if version["schema_version"] != 1.0 ||
		version["max_payload_bytes"] != float64(protocol.DefaultMaxPayloadBytes) || version["decode_error_policy"] != "skip" ||
		version["kafka_topic"] != "dashstream-events" || version["config"] == nil {
		t.Errorf("/version %s", body)
	}

	_, body = get(t, srv.URL+"/metrics", nil)
	for _, name := range []string{"websocket_kafka_messages_total", "websocket_resume_requests_total", "websocket_connected_clients", "replay_buffer_memory_hits_total", "dashstream_sequence_gaps_total"} {
		if !bytes.Contains(body, []byte(name)) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	resp, page := get(t, srv.URL+"/", nil)
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("DashStream</title>")) || bytes.Contains(page, []byte("githubusercontent")) {
		t.Errorf("/: %d\n%.500s", resp.StatusCode, page)
	}
}

func TestGateway_ServesPrecompressedWasm(t *testing.T) {
	web := testWeb(t)
	_, srv := startGateway(t, web)
	raw, _ := os.ReadFile(filepath.Join(web, "app.wasm"))
	br, _ := os.ReadFile(filepath.Join(web, "app.wasm.br"))
	cases := []struct {
		accept, encoding string
		body             []byte
	}{
		{"gzip, deflate, br, zstd", "br", br},
		{"br;q=0, gzip", "", raw}, // no .gz in this folder: the raw file
		{"", "", raw},
	}
	for _, c := range cases {
		resp, body := get(t, srv.URL+"/web/app.wasm", http.Header{"Accept-Encoding": {c.accept}})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != c.encoding || !bytes.Equal(body, c.body) {
			t.Errorf("Accept-Encoding %q: %d, encoding %q, %d bytes", c.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body))
		}
		if resp.Header.Get("Content-Type") != "application/wasm" || resp.Header.Get("Vary") != "Accept-Encoding" ||
			resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") == "" {
			t.Errorf("headers %v", resp.Header)
		}
		if c.encoding != "" && resp.Header.Get("X-Uncompressed-Length") != "15000" {
			t.Errorf("uncompressed length %q", resp.Header.Get("X-Uncompressed-Length"))
		}
		etag := resp.Header.Get("ETag")
		if r2, _ := get(t, srv.URL+"/web/app.wasm", http.Header{"Accept-Encoding": {c.accept}, "If-None-Match": {etag}}); r2.StatusCode != http.StatusNotModified {
			t.Errorf("revalidation with the ETag: %d", r2.StatusCode)
		}
	}
	if resp, body := get(t, srv.URL+"/web/../go.mod", nil); resp.StatusCode == 200 || bytes.Contains(body, []byte("module")) {
		t.Errorf("path traversal: %d", resp.StatusCode)
	}
}

func event(t *testing.T, th string, seq uint64) []byte {
	v, err := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header:    &pb.Header{ThreadId: th, Sequence: seq, TimestampUs: time.Now().UnixMicro(), Type: pb.MessageType_MESSAGE_TYPE_EVENT, SchemaVersion: 1},
		EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: "n",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGateway_ARecordProducedToTheEmbeddedBrokerReachesAClient(t *testing.T) {
	gw, srv := startGateway(t, testWeb(t))
	eventually(t, "ready", func() bool { resp, _ := get(t, srv.URL+"/readyz", nil); return resp.StatusCode == 200 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromLatest, nil).AppendJSON(nil))
	if _, _, err := ws.Read(ctx); err != nil { // replay_complete
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(gw.brokers...), kgo.DefaultProduceTopic("dashstream-events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	value := event(t, "run-1", 1)
	produced := time.Now()
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("run-1"), Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	typ, cursor, err := ws.Read(ctx)
	if err != nil || typ != websocket.MessageText || !bytes.Contains(cursor, []byte(`"type":"cursor"`)) {
		t.Fatalf("first frame %q, %v", cursor, err)
	}
	typ, got, err := ws.Read(ctx)
	if err != nil || typ != websocket.MessageBinary || !bytes.Equal(got, value) {
		t.Fatalf("binary frame differs from the produced value (%v)", err)
	}
	t.Logf("produce to receipt through the embedded broker: %v", time.Since(produced))
}
