package cursors

import (
	"maps"
	"testing"
)

// FuzzLoad: whatever the storage holds, Open neither panics nor keeps an
// invalid entry, the bounds hold, and what it writes back reads back the
// same.
func FuzzLoad(f *testing.F) {
	seeds := [][2]string{
		{`{"0":"12345"}`, `{"t":"1"}`},
		{`{"0":12345,"1":"9223372036854775807"}`, `{"t":18446744073709551615}`},
		{`{"0":"9007199254740993"}`, `{"a":"1","b":"2"}`},
		{`garbage`, `[1,2]`},
		{"{\"0\":\"\xff\"}", `{"\ud800":"1"}`},
		{`{"-1":"1","01":"2","0":"-3","1":"1e3"}`, `{"":"1","x":null,"y":{"z":1}}`},
		{`{"0":"1","0":"2"}`, `{"a":"1"`},
		{``, `null`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, offsets, sequences string) {
		st := NewMemoryStorage()
		st.Set(OffsetsKey+":ns", offsets)
		st.Set(SequencesKey+":ns", sequences)
		opts := Options{Storage: st, Namespace: "ns", Warn: func(string) {}, MaxPartitions: 8, MaxThreads: 8}
		s := Open(opts)
		offs, seqs := s.Offsets(), s.Sequences()
		if len(offs) > 9 || len(seqs) > 8 { // partition 0 may exceed the bound by one
			t.Fatalf("bounds: %d offsets, %d sequences", len(offs), len(seqs))
		}
		for p, o := range offs {
			if p < 0 || o < 0 {
				t.Fatalf("invalid offset entry %d:%d", p, o)
			}
		}
		for th := range seqs {
			if !validThread(th) {
				t.Fatalf("invalid thread %q", th)
			}
		}
		// Force a rewrite of both maps, then reload.
		s.mu.Lock()
		s.offDirty, s.seqDirty = true, true
		s.writeLocked()
		s.mu.Unlock()
		r := Open(opts)
		if !maps.Equal(r.Offsets(), offs) || !maps.Equal(r.Sequences(), seqs) {
			t.Fatalf("round trip: %v %v -> %v %v", offs, seqs, r.Offsets(), r.Sequences())
		}
	})
}
