package producer

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/statehash"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
	"github.com/dashstream/dashstream/server/redact"
)

// capturingProducer is a producer whose records are acknowledged at once
// and kept, for the state-stream fuzz target: thousands of runs a second,
// where a broker round trip per run would leave the fuzzer little to do.
// Kafka behaviour itself is tested against kfake elsewhere.
func capturingProducer(t testing.TB, change func(*Config)) (*Producer, func() []*kgo.Record) {
	cfg := DefaultConfig()
	cfg.Brokers = []string{"127.0.0.1:1"} // never dialled
	if change != nil {
		change(&cfg)
	}
	p, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cl.Close() })
	var mu sync.Mutex
	var recs []*kgo.Record
	p.sink.produce = func(r *kgo.Record, promise func(*kgo.Record, error)) {
		mu.Lock()
		r.Offset = int64(len(recs))
		recs = append(recs, r)
		mu.Unlock()
		promise(r, nil)
	}
	return p, func() []*kgo.Record {
		mu.Lock()
		defer mu.Unlock()
		return recs
	}
}

// FuzzRun_StateStream: any sequence of states (NUL-separated JSON texts,
// invalid ones included) gives a stream a consumer rebuilds exactly: first
// update full, every patch applying, every hash matching, checkpoints
// consistent, and the final state equal, literal for literal, to the last
// valid input after redaction.
func FuzzRun_StateStream(f *testing.F) {
	for _, s := range []string{
		`{"counter":5,"messages":["Hello"]}` + "\x00" + `{"counter":6,"messages":["Hello","World"]}`,
		`{"score":1}` + "\x00" + `{"score":1.0}` + "\x00" + `{"score":1.0,"id":12345678901234567890}`,
		`{"a":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}` + "\x00" + `{"a":[1]}` + "\x00" + `[]` + "\x00" + `"x"`,
		`{"__proto__":{"a":1},"pad":"` + string(bytes.Repeat([]byte("p"), 200)) + `"}` + "\x00" + `{"__proto__":{"a":2}}`,
		`{"msg":"key sk-abcdefghijklmnopqrstuvwxyz"}` + "\x00" + `{"msg":"Bearer abcdefghijklmnopqrstuvwxyz"}`,
		`{"a":` + "\x00" + `{"a":1}` + "\x00" + `not json`,
		`{"é":"東京 😀","a/b":{"m~n":null}}` + "\x00" + `{"é":"東京","a/b":{"m~n":[true]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs := bytes.Split(data, []byte{0})
		if len(docs) > 12 {
			docs = docs[:12]
		}
		p, records := capturingProducer(t, func(c *Config) { c.CheckpointInterval = 3; c.MaxMessageBytes = 64 << 10 })
		run := p.StartRun(RunStart{ThreadID: "fuzz", InitialState: json.RawMessage(docs[0])})
		var last *jsontree.Node
		for _, d := range docs {
			run.NodeStart("n")
			run.NodeEnd("n", json.RawMessage(d), 0)
			if n, err := jsontree.Parse(d); err == nil && len(d) < 30<<10 {
				last = n
			}
		}
		run.End(nil)
		rep := streamcheck.Check(records(), streamcheck.Options{RequireEnd: true})
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		if last == nil {
			return
		}
		th := rep.Threads["fuzz"]
		want := statehash.CanonicalizeTree(redact.Tree(last))
		if got := statehash.CanonicalizeTree(th.State); !bytes.Equal(got, want) {
			t.Fatalf("rebuilt state\n %s\nwant\n %s", got, want)
		}
	})
}
