package producer

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
)

// The upstream schema's field numbers, written out from the reference note
// (producer note §1), not from our generated code: the test reads the
// producer's records with protowire alone, so a renumbered field in
// dashstream.proto cannot hide behind generated code that agrees with it.

type field struct {
	typ protowire.Type
	v   uint64
	b   []byte
}

type fields map[protowire.Number][]field

func parseFields(t *testing.T, b []byte) fields {
	t.Helper()
	out := fields{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var v32 uint32
			v32, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v32)
		default:
			t.Fatalf("unexpected wire type %v for field %d", typ, num)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		out[num] = append(out[num], f)
	}
	return out
}

func (f fields) bytes(t *testing.T, num protowire.Number) []byte {
	t.Helper()
	if len(f[num]) != 1 || f[num][0].typ != protowire.BytesType {
		t.Fatalf("field %d: %v, want one length-delimited value", num, f[num])
	}
	return f[num][0].b
}

func (f fields) varint(t *testing.T, num protowire.Number) uint64 {
	t.Helper()
	if len(f[num]) != 1 || f[num][0].typ != protowire.VarintType {
		t.Fatalf("field %d: %v, want one varint", num, f[num])
	}
	return f[num][0].v
}

// attributes reads an Event's attributes map (field 4: entries of key=1,
// value=2 AttributeValue{string=1, int64=2, ...}) into text.
func attributes(t *testing.T, ev fields) map[string]string {
	out := map[string]string{}
	for _, e := range ev[4] {
		entry := parseFields(t, e.b)
		key := string(entry.bytes(t, 1))
		val := parseFields(t, entry.bytes(t, 2))
		switch {
		case val[1] != nil:
			out[key] = "s:" + string(val.bytes(t, 1))
		case val[2] != nil:
			out[key] = fmt.Sprint("i:", int64(val.varint(t, 2)))
		}
	}
	return out
}

// TestProducer_OutputDecodesWithUpstreamFieldNumbers: one message of each
// kind the producer emits, read field by field.
func TestProducer_OutputDecodesWithUpstreamFieldNumbers(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.CheckpointInterval = 1 })
	run := p.StartRun(RunStart{ThreadID: "wire", TenantID: "acme", GraphName: "wired"})
	run.NodeStart("n")
	run.NodeEnd("n", json.RawMessage(`{"score":1.0}`), 2*time.Millisecond) // StateDiff, Checkpoint, NODE_END
	run.Token(TokenChunk{RequestID: "req", Text: "hi", ChunkIndex: 3, IsFinal: true,
		FinishReason: pb.TokenChunk_FINISH_REASON_STOP, Model: "m", Stats: &pb.TokenStats{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}})
	run.Tool(ToolCall{CallID: "call", Name: "search", Stage: pb.ToolExecution_EXECUTION_STAGE_COMPLETED,
		Arguments: json.RawMessage(`{"q":1.0}`), Result: "ok", Duration: 5 * time.Microsecond, RetryCount: 2})
	run.Metrics(Metrics{Scope: "node", ScopeID: "n", Values: map[string]Metric{"x": Gauge(0.25, "ratio")}, Tags: map[string]string{"k": "v"}})
	run.Error(ErrorInfo{Code: "E42", Message: "bad", Severity: pb.Error_SEVERITY_WARNING})
	run.Fail(errors.New("down"))
	flush(t, p)

	recs := consumeAll(t, c.ListenAddrs(), testTopic)
	dec := protocol.NewDecoder()
	seen := map[protowire.Number]int{}
	for i, rec := range recs {
		raw, err := dec.Unframe(rec.Value)
		if err != nil {
			t.Fatal(err)
		}
		top := parseFields(t, raw)
		if len(top) != 1 {
			t.Fatalf("record %d: %d top-level fields, want exactly one oneof variant", i, len(top))
		}
		for variant := range top {
			seen[variant]++
			body := parseFields(t, top.bytes(t, variant))
			h := parseFields(t, body.bytes(t, 1))
			if id := h.bytes(t, 1); len(id) != 16 {
				t.Fatalf("message_id (1) of %d bytes", len(id))
			}
			if h.varint(t, 2) == 0 || string(h.bytes(t, 3)) != "acme" || string(h.bytes(t, 4)) != "wire" ||
				h.varint(t, 5) != uint64(i+1) || h.varint(t, 6) != uint64(variant) || h.varint(t, 9) != 1 {
				t.Fatalf("record %d header fields wrong: %v", i, h)
			}
			switch variant {
			case 1: // Event: event_type=2, node_id=3, attributes=4, duration_us=5
				et := body.varint(t, 2)
				attrs := attributes(t, body)
				switch et {
				case 1: // GRAPH_START
					if attrs["graph_name"] != "s:wired" {
						t.Errorf("GRAPH_START attributes %v", attrs)
					}
				case 11: // NODE_END
					if string(body.bytes(t, 3)) != "n" || body.varint(t, 5) != 2000 || attrs["duration_us"] != "i:2000" || len(h.bytes(t, 7)) != 16 {
						t.Errorf("NODE_END fields wrong: %v %v", body, attrs)
					}
				case 3: // GRAPH_ERROR
					if attrs["error"] != "s:down" {
						t.Errorf("GRAPH_ERROR attributes %v", attrs)
					}
				}
			case 2: // StateDiff: state_hash=4 (32 bytes), full_state=5
				if len(body.bytes(t, 4)) != 32 || string(body.bytes(t, 5)) != `{"score":1.0}` {
					t.Errorf("StateDiff fields wrong: %v", body)
				}
			case 3: // TokenChunk
				stats := parseFields(t, body.bytes(t, 10))
				if string(body.bytes(t, 2)) != "req" || string(body.bytes(t, 3)) != "hi" || body.varint(t, 6) != 3 ||
					body.varint(t, 7) != 1 || body.varint(t, 8) != 1 || string(body.bytes(t, 9)) != "m" ||
					stats.varint(t, 1) != 1 || stats.varint(t, 2) != 2 || stats.varint(t, 3) != 3 {
					t.Errorf("TokenChunk fields wrong: %v", body)
				}
			case 4: // ToolExecution
				if string(body.bytes(t, 2)) != "call" || string(body.bytes(t, 3)) != "search" || body.varint(t, 4) != 3 ||
					string(body.bytes(t, 5)) != `{"q":1.0}` || string(body.bytes(t, 6)) != `"ok"` ||
					body.varint(t, 9) != 5 || body.varint(t, 10) != 2 {
					t.Errorf("ToolExecution fields wrong: %v", body)
				}
			case 5: // Checkpoint: checkpoint_id=2, state=3, state_type=4, checksum=5, no compression_info=7
				if len(body.bytes(t, 2)) != 16 || string(body.bytes(t, 3)) != `{"score":1.0}` || len(body.bytes(t, 5)) != 32 || body[7] != nil {
					t.Errorf("Checkpoint fields wrong: %v", body)
				}
			case 6: // Metrics: scope=2, scope_id=3, metrics=4 (MetricValue float=2, unit=6, type=7), tags=5
				entry := parseFields(t, body.bytes(t, 4))
				mv := parseFields(t, entry.bytes(t, 2))
				if string(body.bytes(t, 2)) != "node" || string(body.bytes(t, 3)) != "n" || string(entry.bytes(t, 1)) != "x" ||
					mv[2] == nil || mv[2][0].typ != protowire.Fixed64Type || string(mv.bytes(t, 6)) != "ratio" || mv.varint(t, 7) != 2 ||
					len(body[5]) != 1 {
					t.Errorf("Metrics fields wrong: %v", body)
				}
			case 7: // Error: error_code=2, message=3, severity=6
				if string(body.bytes(t, 2)) != "E42" || string(body.bytes(t, 3)) != "bad" || body.varint(t, 6) != 3 {
					t.Errorf("Error fields wrong: %v", body)
				}
			default:
				t.Errorf("unexpected variant %d", variant)
			}
		}
	}
	for v, want := range map[protowire.Number]int{1: 4, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1} {
		if seen[v] != want {
			t.Errorf("variant %d seen %d times, want %d", v, seen[v], want)
		}
	}
}
