package catalog

import (
	"context"
	"testing"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
	"github.com/dashstream/dashstream/server/source"
)

// threadSeqs reads a thread through the store, page by page as the hub
// does, and returns the sequences of the thread's messages in order.
func threadSeqs(t *testing.T, st replay.Store, thread string, limit int) []uint64 {
	t.Helper()
	var seqs []uint64
	after := uint64(0)
	for range 100 {
		recs, err := st.ReadThread(context.Background(), thread, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			msg, err := protocol.Decode(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range protocol.Headers(msg) {
				if h.GetThreadId() == thread {
					seqs = append(seqs, h.GetSequence())
				}
			}
			after = max(after, indexedSeq(r, thread))
		}
		if len(recs) < limit {
			return seqs
		}
	}
	t.Fatal("paging does not end")
	return nil
}

func TestThreadStore_ReplaysARunFromKafkaWhenTheReplayStoreNoLongerHoldsItsStart(t *testing.T) {
	kc := cluster(t, 1)
	old := spec{thread: "old", graph: "g", start: t0, nodes: 5}             // 17 messages
	recent := spec{thread: "recent", graph: "g", start: t0 + 1e9, nodes: 1} // 5 messages
	produce(t, producer(t, kc.ListenAddrs()), old, recent)

	ring, err := memory.New(memory.Config{MaxRecords: 8}) // holds "recent" and the end of "old"
	if err != nil {
		t.Fatal(err)
	}
	c := newKafkaCatalog(kc.ListenAddrs(), 0)
	running(t, c)
	srcCfg := source.Config{Brokers: kc.ListenAddrs(), Topic: topic}
	waitFor(t, "both runs", func() bool { s, _ := c.Get("recent"); return s.Status == "completed" })
	// Fill the ring as the gateway's sink would, with the thread index.
	fetcher := source.NewFetcher(srcCfg, 2)
	defer fetcher.Close()
	if _, err := fetcher.Range(context.Background(), 0, 0, 21, func(r replay.Record) error {
		msg, _ := protocol.Decode(r.Value)
		h := protocol.Header(msg)
		r.Threads = []replay.ThreadSeq{{Thread: h.GetThreadId(), Seq: h.GetSequence()}}
		return ring.Append(context.Background(), r)
	}); err != nil {
		t.Fatal(err)
	}
	if got := threadSeqs(t, ring, "old", 4); len(got) == 0 || got[0] == 1 {
		t.Fatalf("the ring alone gives %v; the test needs it to lack the start", got)
	}

	ts := NewThreadStore(ring, c, fetcher)
	for _, limit := range []int{4, 100} {
		got := threadSeqs(t, ts, "old", limit)
		if len(got) != 17 {
			t.Fatalf("limit %d: sequences %v, want 1..17", limit, got)
		}
		for i, s := range got {
			if s != uint64(i+1) {
				t.Fatalf("limit %d: sequences %v, want 1..17 in order", limit, got)
			}
		}
	}
	if got := threadSeqs(t, ts, "recent", 100); len(got) != 5 || got[0] != 1 {
		t.Errorf("a run the ring holds whole: %v", got)
	}
	if got := threadSeqs(t, ts, "unknown", 100); len(got) != 0 {
		t.Errorf("an unknown thread: %v", got)
	}
}
