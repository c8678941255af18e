package runstate

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// A random producer for property tests and fuzz seeds: it keeps the true
// state of a run and emits the messages a producer would, with random
// patches (every RFC 6902 operation), full states, checkpoints, attribute
// merges and non-state telemetry.

var (
	genKeys    = []string{"a", "b", "c", "msgs", "x/y", "m~n", "é", "0", ""}
	genScalars = []string{"null", "true", "false", "0", "-1", "1.0", "2.50", "1e3", "12345678901234567890", "9007199254740993", `""`, `"hi"`, `"é😀"`, `"a\"b"`}
)

func genValue(r *rand.Rand, depth int) *jsontree.Node {
	if depth <= 0 || r.IntN(3) > 0 {
		n, _ := jsontree.Parse([]byte(genScalars[r.IntN(len(genScalars))]))
		return n
	}
	if r.IntN(2) == 0 {
		v := jsontree.EmptyArray()
		for i := range r.IntN(4) {
			v = v.ArrayInsert(i, genValue(r, depth-1))
		}
		return v
	}
	v := jsontree.EmptyObject()
	for range r.IntN(4) {
		v = v.ObjectSet(genKeys[r.IntN(len(genKeys))], genValue(r, depth-1))
	}
	return v
}

// location is a path in a document, as tokens.
type location []string

func (l location) pointer() string {
	var b strings.Builder
	for _, t := range l {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// paths lists the locations of doc up to a depth, root first.
func paths(doc *jsontree.Node, prefix location, depth int, out []location) []location {
	out = append(out, slices.Clone(prefix))
	if depth == 0 {
		return out
	}
	switch doc.Kind() {
	case jsontree.Array:
		for i := range doc.Len() {
			out = paths(doc.Index(i), append(prefix, itoa(i)), depth-1, out)
		}
	case jsontree.Object:
		for i := range doc.Len() {
			name, v := doc.Member(i)
			out = paths(v, append(prefix, name), depth-1, out)
		}
	}
	return out
}

func get(doc *jsontree.Node, l location) *jsontree.Node {
	for _, t := range l {
		if doc.Kind() == jsontree.Array {
			doc = doc.Index(atoi(t))
		} else {
			doc, _ = doc.Get(t)
		}
	}
	return doc
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// target picks where an add (or move/copy destination) can go: a member of
// an object or a position in an array.
func target(r *rand.Rand, doc *jsontree.Node, all []location) (location, bool) {
	var containers []location
	for _, l := range all {
		if k := get(doc, l).Kind(); k == jsontree.Array || k == jsontree.Object {
			containers = append(containers, l)
		}
	}
	if len(containers) == 0 {
		return nil, false
	}
	c := containers[r.IntN(len(containers))]
	n := get(doc, c)
	if n.Kind() == jsontree.Array {
		if r.IntN(3) == 0 {
			return append(slices.Clone(c), "-"), true
		}
		return append(slices.Clone(c), itoa(r.IntN(n.Len()+1))), true
	}
	return append(slices.Clone(c), genKeys[r.IntN(len(genKeys))]), true
}

// genOps returns 1–4 operations valid on doc, applied one by one, and the
// resulting document.
func genOps(r *rand.Rand, doc *jsontree.Node) ([]*pb.DiffOperation, *jsontree.Node) {
	var ops []*pb.DiffOperation
	for range 1 + r.IntN(4) {
		all := paths(doc, nil, 4, nil)
		var o *pb.DiffOperation
		pick := all[r.IntN(len(all))]
		switch r.IntN(7) {
		case 0, 1: // add
			if to, ok := target(r, doc, all); ok {
				o = add(to.pointer(), genValue(r, 2).String())
			}
		case 2:
			if len(pick) > 0 {
				o = op(pb.DiffOperation_OP_TYPE_REMOVE, pick.pointer(), "")
			}
		case 3:
			if len(pick) > 0 || r.IntN(8) == 0 {
				o = replace(pick.pointer(), genValue(r, 2).String())
			}
		case 4, 5: // move or copy
			if to, ok := target(r, doc, all); ok && len(pick) > 0 {
				kind := pb.DiffOperation_OP_TYPE_MOVE
				if r.IntN(2) == 0 {
					kind = pb.DiffOperation_OP_TYPE_COPY
				}
				o = &pb.DiffOperation{Op: kind, Path: to.pointer(), From: pick.pointer()}
			}
		case 6:
			o = op(pb.DiffOperation_OP_TYPE_TEST, pick.pointer(), get(doc, pick).String())
		}
		if o == nil {
			continue
		}
		p, err := jsonpatch.FromDiffOperations([]*pb.DiffOperation{o})
		if err != nil {
			continue
		}
		next, err := p.Apply(doc)
		if err != nil || next.Kind() != jsontree.Object {
			continue // e.g. a move into its own child; keep the root an object
		}
		ops, doc = append(ops, o), next
	}
	return ops, doc
}

// producer emits one thread's messages and remembers the true state after
// each sequence.
type producer struct {
	r          *rand.Rand
	thread     string
	seq        uint64
	state      *jsontree.Node
	checkpoint []byte
	truth      map[uint64]string // state text after each sequence
	msgs       []*pb.DashStreamMessage
}

func newProducer(r *rand.Rand, thread string) *producer {
	p := &producer{r: r, thread: thread, truth: map[uint64]string{}}
	p.state = jsontree.EmptyObject().ObjectSet("a", genValue(r, 2)).ObjectSet("msgs", jsontree.EmptyArray())
	p.emit(graphStart(thread, p.next(), p.state.String()))
	return p
}

func (p *producer) next() uint64 { p.seq++; return p.seq }

func (p *producer) emit(m *pb.DashStreamMessage) {
	p.msgs = append(p.msgs, m)
	p.truth[p.seq] = p.state.String()
}

func (p *producer) hash() []byte {
	h := statehash.SumTree(p.state)
	return h[:]
}

// step emits one more message of a random kind.
func (p *producer) step() {
	r := p.r
	switch k := r.IntN(20); {
	case k < 10: // a patch
		ops, next := genOps(r, p.state)
		p.state = next
		d := &pb.StateDiff{Header: header(p.thread, p.next(), 2), Operations: ops, BaseCheckpointId: p.checkpoint}
		if r.IntN(10) > 0 {
			d.StateHash = p.hash()
		}
		p.emit(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}})
	case k == 10: // a full state
		_, p.state = genOps(r, p.state)
		d := &pb.StateDiff{Header: header(p.thread, p.next(), 2), FullState: []byte(p.state.String()), StateHash: p.hash()}
		p.emit(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}})
	case k == 11: // a checkpoint of the current state
		seq := p.next()
		p.checkpoint = msgID(p.thread, seq, 7)
		cp := &pb.Checkpoint{Header: header(p.thread, seq, 5), CheckpointId: p.checkpoint, State: []byte(p.state.String())}
		p.emit(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Checkpoint{Checkpoint: cp}})
	case k == 12: // a node end merging state members
		part := jsontree.EmptyObject().ObjectSet(genKeys[r.IntN(len(genKeys))], genValue(r, 1))
		_, v := part.Member(0)
		name, _ := part.Member(0)
		p.state = p.state.ObjectSet(name, v)
		p.emit(event(p.thread, p.next(), pb.EventType_EVENT_TYPE_NODE_END, "n", map[string]*pb.AttributeValue{"state_json": sattr(part.String())}))
	case k < 16:
		p.emit(nodeStart(p.thread, p.next(), genKeys[r.IntN(3)]))
	case k < 18:
		c := &pb.TokenChunk{Header: header(p.thread, p.next(), 3), RequestId: "r", ChunkIndex: uint32(r.IntN(5)), Text: "tok "}
		p.emit(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: c}})
	default: // unsequenced telemetry
		h := header(p.thread, 0, 9)
		h.MessageId = msgID(p.thread, p.seq, byte(r.IntN(200)+2))
		p.msgs = append(p.msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ExecutionTrace{ExecutionTrace: &pb.ExecutionTrace{Header: h}}})
	}
}

// delivery is the order messages reach the consumer: each message is
// delayed by up to spread positions, and some are delivered twice.
func delivery(r *rand.Rand, msgs []*pb.DashStreamMessage, spread int, dupRate float64) []*pb.DashStreamMessage {
	type slot struct {
		key float64
		m   *pb.DashStreamMessage
	}
	var slots []slot
	for i, m := range msgs {
		slots = append(slots, slot{float64(i) + r.Float64()*float64(spread), m})
		if r.Float64() < dupRate {
			slots = append(slots, slot{float64(i) + r.Float64()*float64(4*spread+4), m})
		}
	}
	slices.SortStableFunc(slots, func(a, b slot) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out := make([]*pb.DashStreamMessage, len(slots))
	for i, s := range slots {
		out[i] = s.m
	}
	return out
}
