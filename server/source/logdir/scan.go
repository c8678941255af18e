package logdir

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The embedded broker (kfake) stores each partition as segment files
// (<base>.dat: Kafka RecordBatches back to back) with a parallel index
// (<base>.idx: one 15-byte entry per batch). These constants mirror that
// layout; the scan is written here rather than taken from kfake because kfake
// offers no validation hook: its loader stops at the first bad batch of a
// segment and truncates the file there, silently.
const (
	batchHeaderSize = 61 // RecordBatch fields up to and including NumRecords
	indexEntrySize  = 15
	maxBatchLength  = 1 << 30
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// batchAt reports whether a whole, checksummed RecordBatch starts at pos,
// and returns its size and offsets.
func batchAt(raw []byte, pos int) (size int, first, last int64, ok bool) {
	if pos+batchHeaderSize > len(raw) {
		return 0, 0, 0, false
	}
	length := int64(binary.BigEndian.Uint32(raw[pos+8 : pos+12]))
	if length < batchHeaderSize-12 || length > maxBatchLength || int64(pos)+12+length > int64(len(raw)) {
		return 0, 0, 0, false
	}
	if raw[pos+16] != 2 { // magic
		return 0, 0, 0, false
	}
	size = 12 + int(length)
	if crc32.Checksum(raw[pos+21:pos+size], crc32c) != binary.BigEndian.Uint32(raw[pos+17:pos+21]) {
		return 0, 0, 0, false
	}
	first = int64(binary.BigEndian.Uint64(raw[pos : pos+8]))
	delta := int32(binary.BigEndian.Uint32(raw[pos+23 : pos+27]))
	if first < 0 || delta < 0 {
		return 0, 0, 0, false
	}
	var rb kmsg.RecordBatch // the broker decodes it on load too
	if rb.ReadFrom(raw[pos:pos+size]) != nil {
		return 0, 0, 0, false
	}
	return size, first, first + int64(delta), true
}

// batch is one readable RecordBatch of a segment.
type batch struct {
	pos, size   int
	first, last int64
}

// segment is the scan of one .dat file.
type segment struct {
	base       int64
	raw        []byte
	batches    []batch
	badBytes   int   // bytes no readable batch covers
	badAt      []int // byte positions where unreadable stretches begin
	idxEntries int
	tornTail   bool // unreadable bytes after the last readable batch
}

// scanSegment reads a segment, keeping every batch whose checksum holds. After
// an unreadable stretch it looks for the next batch byte by byte (the CRC-32C
// makes a false match negligible), so one damaged batch costs that batch only.
func scanSegment(dir string, base int64) (*segment, error) {
	raw, err := os.ReadFile(filepath.Join(dir, strconv.FormatInt(base, 10)+".dat"))
	if err != nil {
		return nil, err
	}
	s := &segment{base: base, raw: raw}
	if info, err := os.Stat(filepath.Join(dir, strconv.FormatInt(base, 10)+".idx")); err == nil {
		s.idxEntries = int(info.Size() / indexEntrySize)
	}
	next := int64(-1) // offsets must increase
	for pos := 0; pos < len(raw); {
		if size, first, last, ok := batchAt(raw, pos); ok && first > next {
			s.batches = append(s.batches, batch{pos: pos, size: size, first: first, last: last})
			next = last
			pos += size
			continue
		}
		start := pos
		for pos++; pos < len(raw); pos++ {
			if _, first, _, ok := batchAt(raw, pos); ok && first > next {
				break
			}
		}
		s.badBytes += pos - start
		s.badAt = append(s.badAt, start)
		if pos == len(raw) {
			s.tornTail = true
		}
	}
	return s, nil
}

// segmentBases lists a partition folder's segments in offset order.
func segmentBases(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".dat")
		if !ok {
			continue
		}
		if base, err := strconv.ParseInt(name, 10, 64); err == nil {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// partitionScan is what a partition folder holds and what it lost.
type partitionScan struct {
	segments []*segment
	start    int64 // first readable offset (-1: none)
	end      int64 // one past the last readable offset (0: none)
	losses   []Loss
	damaged  bool // some segment must be rewritten
}

// scanPartition checks every segment of a partition: checksums, offsets
// increasing without holes inside and across segments, no index entries
// beyond the batches (the index is written after the batch, so a longer
// index means the segment lost its end; a hole before the next segment then
// gives the exact range).
func scanPartition(topic string, p int32, dir string, known [][2]int64) (*partitionScan, error) {
	bases, err := segmentBases(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	ps := &partitionScan{start: -1}
	expect := int64(-1) // next offset expected: segments are named after their first offset
	if len(bases) > 0 {
		expect = bases[0]
	}
	where := func(s *segment) string { return fmt.Sprintf("%s-%d/%d.dat", topic, p, s.base) }
	for _, base := range bases {
		s, err := scanSegment(dir, base)
		if err != nil {
			return nil, err
		}
		ps.segments = append(ps.segments, s)
		if s.badBytes > 0 || s.idxEntries > len(s.batches) {
			ps.damaged = true
		}
		if s.badBytes > 0 {
			ps.losses = append(ps.losses, Loss{Topic: topic, Partition: p, From: -1, To: -1, Detail: true,
				What: fmt.Sprintf("%s: %d unreadable bytes (first at byte %d of %d)", where(s), s.badBytes, s.badAt[0], len(s.raw))})
		}
		for _, b := range s.batches {
			if expect >= 0 && b.first > expect && !covered(known, expect, b.first-1) {
				ps.losses = append(ps.losses, Loss{Topic: topic, Partition: p, From: expect, To: b.first - 1,
					What: fmt.Sprintf("%s: offsets %d..%d unreadable", where(s), expect, b.first-1)})
				ps.damaged = true
			}
			if ps.start < 0 {
				ps.start = b.first
			}
			expect = b.last + 1
		}
	}
	if expect > 0 {
		ps.end = expect
	}
	// A record lost at the very end leaves no hole to see; the torn tail or
	// the index says so, and the state's recorded end gives the range.
	if n := len(ps.segments); n > 0 {
		last := ps.segments[n-1]
		// Unreadable bytes at the end, or an index longer than the batches
		// with no unreadable byte (a file cut at a batch boundary).
		if last.tornTail || (last.badBytes == 0 && last.idxEntries > len(last.batches)) {
			ps.losses = append(ps.losses, Loss{Topic: topic, Partition: p, From: ps.end, To: -1, Tail: true,
				What: fmt.Sprintf("%s-%d: the end of the log is unreadable (from offset %d on)", topic, p, ps.end)})
		}
	}
	return ps, nil
}

// covered reports whether [from, to] lies within one of the holes already
// reported (kept in the state, so a repaired log is not reported again).
func covered(holes [][2]int64, from, to int64) bool {
	for _, h := range holes {
		if h[0] <= from && to <= h[1] {
			return true
		}
	}
	return false
}
