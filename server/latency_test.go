package main

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
)

// BenchmarkE2ELatency_1000PerSec10Clients produces 1,000 records/s to the
// embedded broker for two seconds with 10 clients connected and reports the
// produce-to-receipt latency percentiles over all 20,000 deliveries. The
// produce time travels in the record (timestamp_us), so nothing is shared
// between producer and clients but the wire.
func BenchmarkE2ELatency_1000PerSec10Clients(b *testing.B) {
	const clients, rate, seconds = 10, 1000, 2
	gw, srv := startGateway(b, testWeb(b))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.CloseNow()
		ws.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromLatest, nil).AppendJSON(nil))
		ws.Read(ctx)
		conns[i] = ws
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(gw.brokers...), kgo.DefaultProduceTopic("dashstream-events"), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	total := rate * seconds
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for _, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < total; {
				typ, data, err := ws.Read(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				if typ != websocket.MessageBinary {
					continue
				}
				now := time.Now()
				msg, err := protocol.Decode(data)
				if err != nil {
					b.Error(err)
					return
				}
				sent := time.UnixMicro(msg.GetEvent().GetHeader().GetTimestampUs())
				mu.Lock()
				lat = append(lat, now.Sub(sent))
				mu.Unlock()
				n++
			}
		}()
	}
	b.ResetTimer()
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	for i := range total {
		<-tick.C
		v, _ := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
			Header: &pb.Header{ThreadId: "lat", Sequence: uint64(i + 1), TimestampUs: time.Now().UnixMicro(), Type: pb.MessageType_MESSAGE_TYPE_EVENT},
		}}})
		key := binary.BigEndian.AppendUint32(nil, uint32(i%8))
		cl.Produce(ctx, &kgo.Record{Key: key, Value: v}, nil)
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(len(lat)), "deliveries")
}
