package control

import "testing"

func BenchmarkCursorAppendJSON(b *testing.B) {
	c := &Cursor{Partition: 3, Offset: 123456789012}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = c.AppendJSON(buf[:0])
	}
}

func BenchmarkParseCursor(b *testing.B) {
	frame := []byte(`{"type":"cursor","partition":3,"offset":"123456789012"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResume(b *testing.B) {
	frame := []byte(`{"type":"resume","lastOffsetsByPartition":{"0":"123456","1":"98765","2":"5","3":"77777"},` +
		`"from":"cursor","lastSequencesByThread":{"run-1":"12","run-2":"7"},"lastSequence":12}`)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := ParseResume(frame)
		if err != nil || len(r.Rejected) != 0 {
			b.Fatal(err, r.Rejected)
		}
	}
}

func BenchmarkParseResume1024Partitions(b *testing.B) {
	offsets := make(map[int32]int64, MaxResumePartitions)
	for p := range int32(MaxResumePartitions) {
		offsets[p] = int64(p) * 1000003
	}
	frame := NewPartitionResume(FromCursor, offsets).AppendJSON(nil)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResume(frame); err != nil {
			b.Fatal(err)
		}
	}
}
