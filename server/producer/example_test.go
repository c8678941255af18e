package producer_test

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/producer"
)

// A graph runtime reports one run. Every call returns at once; Close (or
// Flush) waits for Kafka.
func Example() {
	cfg, err := producer.FromEnv() // KAFKA_BROKERS, KAFKA_TOPIC, security, redaction...
	if err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry() // the registry your /metrics serves
	p, err := producer.New(cfg, producer.WithRegisterer(reg))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background()) // flushes, bounded by FlushTimeout

	schema := &producer.GraphSchema{
		Name: "research", Version: "1.0.0", EntryPoint: "search",
		Nodes: []producer.SchemaNode{{Name: "search", NodeType: producer.NodeTool}, {Name: "answer", NodeType: producer.NodeLLM}},
		Edges: []producer.SchemaEdge{{From: "search", To: "answer", EdgeType: producer.EdgeDirect}},
	}
	// json.RawMessage keeps number literals exactly (1.0 stays 1.0).
	run := p.StartRun(producer.RunStart{Schema: schema, InitialState: json.RawMessage(`{"question":"Why?","score":1.0}`)})

	run.NodeStart("search")
	run.Tool(producer.ToolCall{CallID: "c1", Name: "web_search", Stage: pb.ToolExecution_EXECUTION_STAGE_COMPLETED,
		Arguments: map[string]any{"q": "why"}, Result: json.RawMessage(`{"hits":3}`), Duration: 120 * time.Millisecond})
	run.NodeEnd("search", json.RawMessage(`{"question":"Why?","score":1.0,"hits":3}`), 130*time.Millisecond)
	run.Edge("search", "answer")

	run.NodeStart("answer")
	run.Token(producer.TokenChunk{RequestID: "r1", Text: "Because", ChunkIndex: 0, Model: "m"})
	run.Token(producer.TokenChunk{RequestID: "r1", Text: ".", ChunkIndex: 1, IsFinal: true, Model: "m",
		FinishReason: pb.TokenChunk_FINISH_REASON_STOP})
	run.NodeEnd("answer", json.RawMessage(`{"question":"Why?","score":1.0,"hits":3,"answer":"Because."}`), 800*time.Millisecond)

	run.Quality(producer.Quality{Accuracy: 0.9, Relevance: 1, Completeness: 0.8, Threshold: 0.7})
	run.End(json.RawMessage(`{"question":"Why?","score":1.0,"hits":3,"answer":"Because."}`))
}

// A failed run ends with GRAPH_ERROR, after the failing node's NODE_ERROR.
func ExampleRun_Fail() {
	var p *producer.Producer // from producer.New
	if p == nil {
		return
	}
	run := p.StartRun(producer.RunStart{GraphName: "etl"})
	run.NodeStart("load")
	err := errors.New("load: connection refused")
	run.NodeError("load", err)
	run.Fail(err)
}

// Keeping the state as a jsontree and updating it with its methods is the
// fast path: unchanged subtrees are shared between versions, so redaction,
// diffing and canonical JSON cost what changed.
func ExampleRun_NodeEnd_tree() {
	var p *producer.Producer // from producer.New
	if p == nil {
		return
	}
	state, _ := jsontree.Parse([]byte(`{"step":0,"messages":[]}`))
	run := p.StartRun(producer.RunStart{InitialState: state})
	for i := 1; i <= 3; i++ {
		step, _ := jsontree.NumberNode(strconv.Itoa(i))
		msgs, _ := state.Get("messages")
		text, _ := jsontree.StringNode("step done")
		state = state.ObjectSet("step", step).ObjectSet("messages", msgs.ArrayInsert(msgs.Len(), text))
		run.NodeStart("work")
		run.NodeEnd("work", state, time.Second)
	}
	run.End(state)
}
