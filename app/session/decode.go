package session

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
)

// job is one unit of the connection's ordered stream: a binary frame with
// the cursor that preceded it, or a control message. Control messages go
// through the same queues so they act exactly where they arrived (a
// replay_complete after the frames it completes).
type job struct {
	epoch uint64
	cur   control.Cursor
	data  []byte          // a binary frame; nil for a control message
	ctrl  control.Message // a control message other than cursor
	recv  time.Time
}

// decoded is a job after the decoder: the message, or why it failed.
type decoded struct {
	job
	gen   uint64 // the decoder generation that produced it
	msg   *pb.DashStreamMessage
	err   error
	class string // protocol.ErrorClass, "panic" or "timeout"
}

// errDecoderPanic wraps a panic recovered from the decode function.
var errDecoderPanic = errors.New("decoder panicked")

// decodeClass labels a decode error for Health.DecodeErrors.
func decodeClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errDecodeTimeout):
		return "timeout"
	case errors.Is(err, errDecoderPanic):
		return "panic"
	}
	return protocol.ErrorClass(err)
}

// decoder is one generation of the decode goroutine. The apply loop's
// watchdog reads busy/current to find a decode that hangs; it then starts a
// new generation and ignores whatever the old one still produces.
type decoder struct {
	gen     uint64
	decode  func([]byte) (*pb.DashStreamMessage, error)
	busy    atomic.Int64        // UnixNano when the current decode began; 0 when idle
	current atomic.Pointer[job] // the job being decoded
	cancel  context.CancelFunc
}

// run decodes jobs in order until ctx ends. A decode that panics is
// reported as an error of class "panic": the goroutine never dies with it.
func (d *decoder) run(ctx context.Context, in <-chan job, out chan<- decoded) {
	for {
		// A retired generation must not take another job: its results are
		// discarded, so the frame would be lost to the new generation.
		if ctx.Err() != nil {
			return
		}
		var j job
		select {
		case <-ctx.Done():
			return
		case j = <-in:
		}
		r := decoded{job: j, gen: d.gen}
		if j.data != nil {
			r.msg, r.err = d.safeDecode(&j)
			r.class = decodeClass(r.err)
		}
		select {
		case out <- r:
		case <-ctx.Done():
			return
		}
	}
}

func (d *decoder) safeDecode(j *job) (msg *pb.DashStreamMessage, err error) {
	d.current.Store(j)
	d.busy.Store(time.Now().UnixNano())
	defer func() {
		d.busy.Store(0)
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("%w: %v", errDecoderPanic, r)
		}
	}()
	msg, err = d.decode(j.data)
	if err == nil && msg == nil {
		err = fmt.Errorf("%w: decoder returned no message", protocol.ErrInvalidProtobuf)
	}
	return msg, err
}

// hung returns the job a decode has been stuck on for longer than limit.
func (d *decoder) hung(now time.Time, limit time.Duration) (*job, bool) {
	b := d.busy.Load()
	if b == 0 || now.Sub(time.Unix(0, b)) <= limit {
		return nil, false
	}
	return d.current.Load(), true
}

// pipeline is a connection's decode stage: the input queue and the current
// decoder generation (only the apply loop touches it).
type pipeline struct {
	in   chan job
	out  chan decoded
	dec  *decoder
	gens uint64
	wg   waitGroup
}

// start begins a new decoder generation, retiring the previous one.
func (p *pipeline) start(ctx context.Context, decode func([]byte) (*pb.DashStreamMessage, error)) {
	if p.dec != nil {
		p.dec.cancel()
	}
	p.gens++
	dctx, cancel := context.WithCancel(ctx)
	d := &decoder{gen: p.gens, decode: decode, cancel: cancel}
	p.dec = d
	p.wg.Go(func() { d.run(dctx, p.in, p.out) })
}

// timeoutOutcome is what the watchdog decided about a hung decode.
type timeoutOutcome struct {
	err  *connError // reconnect (the frame will be re-sent)
	skip *job       // give up on this frame: it hung twice
}

// decodeTimeout handles a decode that hung: the first time for a frame the
// epoch is retired and the connection replaced, so the server re-sends it
// to a fresh pipeline; if the same frame hangs again it is skipped (counted,
// and the run's local hole detection will flag the thread) and a new
// decoder generation continues with the next frame.
func (s *Session) decodeTimeout(ctx context.Context, p *pipeline, j *job, epoch uint64, decode func([]byte) (*pb.DashStreamMessage, error)) timeoutOutcome {
	s.loop.decodeErrs["timeout"]++
	key := [2]int64{int64(j.cur.Partition), j.cur.Offset}
	if s.loop.lastTimeout != key {
		s.loop.lastTimeout = key
		s.live.CompareAndSwap(epoch, 0)
		return timeoutOutcome{err: &connError{Code: CloseDecodeTimeout, Reason: "decode_timeout", Err: errDecodeTimeout}}
	}
	p.start(ctx, decode)
	return timeoutOutcome{skip: j}
}
