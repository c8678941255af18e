package memory

import "container/heap"

// partition holds one partition's records sorted by offset.
type partition struct {
	id   int32
	recs deque[*entry]
	// heapIdx is the partition's position in evictionOrder.
	heapIdx int
}

// evictionOrder is a min-heap of the partitions that hold records, keyed by
// the arrival stamp of each partition's lowest-offset record.
//
// Evicting "the partition whose lowest record arrived first" and then that
// partition's lowest offset is FIFO across partitions whenever offsets
// arrive in order (Kafka's order), and it keeps every partition a suffix
// even when they do not: a partition only ever loses its lowest offset, so
// a Tiered read never finds a hole inside the range the ring claims.
type evictionOrder []*partition

func (o evictionOrder) Len() int { return len(o) }
func (o evictionOrder) Less(i, j int) bool {
	return o[i].recs.At(0).stamp < o[j].recs.At(0).stamp
}
func (o evictionOrder) Swap(i, j int) {
	o[i], o[j] = o[j], o[i]
	o[i].heapIdx = i
	o[j].heapIdx = j
}
func (o *evictionOrder) Push(x any) {
	p := x.(*partition)
	p.heapIdx = len(*o)
	*o = append(*o, p)
}
func (o *evictionOrder) Pop() any {
	old := *o
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*o = old[:len(old)-1]
	p.heapIdx = -1
	return p
}

var _ heap.Interface = (*evictionOrder)(nil)
