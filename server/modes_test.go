package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/internal/redisserver"
)

func wsURL(httpURL string) string { return "ws" + strings.TrimPrefix(httpURL, "http") + "/ws" }

// readRecord reads a cursor and its binary frame.
func readRecord(t *testing.T, ctx context.Context, ws *websocket.Conn) (*control.Cursor, []byte) {
	t.Helper()
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("binary frame without a cursor")
		}
		msg, err := control.Parse(data)
		if err != nil {
			t.Fatalf("bad control frame %q", data)
		}
		cur, ok := msg.(*control.Cursor)
		if !ok {
			continue
		}
		typ, value, err := ws.Read(ctx)
		if err != nil || typ != websocket.MessageBinary {
			t.Fatalf("cursor not followed by its value: %v", err)
		}
		return cur, value
	}
}

func produceTo(t *testing.T, brokers []string, topic string, values ...[]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Partition: 0, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProxyMode_RelaysAnUpstreamFrameForFrame(t *testing.T) {
	web := testWeb(t)
	upstream, upSrv := startGateway(t, web)
	_, proxySrv := startGateway(t, web, "--upstream", "ws"+strings.TrimPrefix(upSrv.URL, "http"))
	eventually(t, "upstream ready", func() bool { resp, _ := get(t, upSrv.URL+"/readyz", nil); return resp.StatusCode == 200 })

	resp, body := get(t, proxySrv.URL+"/version", nil)
	_, upBody := get(t, upSrv.URL+"/version", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, upBody) {
		t.Errorf("/version through the proxy differs: %s vs %s", body, upBody)
	}
	if resp, _ := get(t, proxySrv.URL+"/readyz", nil); resp.StatusCode != 200 {
		t.Errorf("proxy /readyz %d", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(proxySrv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(32 << 20)
	ws.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromLatest, nil).AppendJSON(nil))
	if _, data, _ := ws.Read(ctx); !bytes.Contains(data, []byte("replay_complete")) {
		t.Fatalf("first frame through the proxy %q", data)
	}
	want := [][]byte{event(t, "a", 1), event(t, "a", 2)}
	produceTo(t, upstream.brokers, "dashstream-events", want...)
	for i, w := range want {
		_, got := readRecord(t, ctx, ws)
		if !bytes.Equal(got, w) {
			t.Fatalf("record %d changed through the proxy", i)
		}
	}
	// Pings are relayed too.
	ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
	if _, data, _ := ws.Read(ctx); string(data) != `{"type":"pong"}` {
		t.Errorf("pong through the proxy: %q", data)
	}
}

func TestTwoInstancesOnOneRedis_ResumeOnTheOtherContinuesExactly(t *testing.T) {
	rs := redisserver.Start(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "dashstream-events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	web := testWeb(t)
	args := []string{"--kafka-brokers", brokers, "--redis-url", rs.URL(), "--replay-memory-records", "5"}
	_, a := startGateway(t, web, args...)
	_, b := startGateway(t, web, args...)
	for _, s := range []string{a.URL, b.URL} {
		eventually(t, "ready", func() bool { resp, _ := get(t, s+"/readyz", nil); return resp.StatusCode == 200 })
	}
	var values [][]byte
	for i := range 40 {
		values = append(values, event(t, "run", uint64(i+1)))
	}
	produceTo(t, cluster.ListenAddrs(), "dashstream-events", values...)
	// Both instances wrote every record to Redis (with SET NX, once).
	eventually(t, "the records in Redis", func() bool {
		_, body := get(t, b.URL+"/health", nil)
		var h map[string]any
		json.Unmarshal(body, &h)
		return h["metrics"].(map[string]any)["messages_forwarded"] == 40.0
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(a.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(32 << 20)
	ws.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromCursor, map[int32]int64{0: -1 + 0}).AppendJSON(nil))
	var last int64 = -1
	for range 15 {
		cur, v := readRecord(t, ctx, ws)
		if cur.Offset != last+1 || !bytes.Equal(v, values[cur.Offset]) {
			t.Fatalf("instance A sent offset %d after %d", cur.Offset, last)
		}
		last = cur.Offset
	}
	ws.Close(websocket.StatusNormalClosure, "moving to the other instance")

	// Instance B holds only 5 records in memory: the rest of the
	// continuation comes from the shared Redis.
	ws2, _, err := websocket.Dial(ctx, wsURL(b.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.CloseNow()
	ws2.SetReadLimit(32 << 20)
	ws2.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromCursor, map[int32]int64{0: last}).AppendJSON(nil))
	for last < 39 {
		cur, v := readRecord(t, ctx, ws2)
		if cur.Offset != last+1 || !bytes.Equal(v, values[cur.Offset]) {
			t.Fatalf("instance B sent offset %d after %d", cur.Offset, last)
		}
		last = cur.Offset
	}
	_, done, _ := ws2.Read(ctx)
	if !bytes.Contains(done, []byte(`"totalReplayed":25`)) {
		t.Errorf("replay_complete on B: %s", done)
	}
	_ = fmt.Sprint
}

func healthDoc(t *testing.T, url string) map[string]any {
	t.Helper()
	_, body := get(t, url+"/health", nil)
	var h map[string]any
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("/health: %v: %s", err, body)
	}
	return h
}

func TestRedisDown_LiveGoesOnHealthDegradesThenRecovers(t *testing.T) {
	rs := redisserver.Start(t)
	gw, srv := startGateway(t, testWeb(t), "--redis-url", rs.URL())
	eventually(t, "ready", func() bool { resp, _ := get(t, srv.URL+"/readyz", nil); return resp.StatusCode == 200 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(32 << 20)
	ws.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromLatest, nil).AppendJSON(nil))
	ws.Read(ctx) // replay_complete

	produceTo(t, gw.brokers, "dashstream-events", event(t, "r", 1))
	readRecord(t, ctx, ws)
	rs.Stop()
	// Ingest and live fan-out go on without Redis.
	produceTo(t, gw.brokers, "dashstream-events", event(t, "r", 2), event(t, "r", 3))
	readRecord(t, ctx, ws)
	readRecord(t, ctx, ws)
	eventually(t, "/health degraded", func() bool {
		h := healthDoc(t, srv.URL)
		return h["status"] == "degraded" && h["replay_buffer"].(map[string]any)["redis_available"] == false
	})
	rs.Restart()
	produceTo(t, gw.brokers, "dashstream-events", event(t, "r", 4))
	readRecord(t, ctx, ws)
	eventually(t, "/health recovered", func() bool {
		return healthDoc(t, srv.URL)["replay_buffer"].(map[string]any)["redis_available"] == true
	})
	// Replay still answers from memory for everything.
	ws2, _, err := websocket.Dial(ctx, wsURL(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.CloseNow()
	ws2.SetReadLimit(32 << 20)
	ws2.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromEarliest, nil).AppendJSON(nil))
	seen := 0
	for seen < 4 {
		readRecord(t, ctx, ws2)
		seen++
	}
}
