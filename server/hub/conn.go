package hub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
)

// conn is one client. The reader goroutine parses control frames and hands
// work to the writer goroutine, which alone writes to the socket (so a cursor
// and its binary frame are never separated) and owns the replay state.
type conn struct {
	h     *Hub
	ws    *websocket.Conn
	cork  *corkConn // the socket under ws; nil when not hijacked through corkingWriter
	ip    string
	admin bool

	// ctx lives as long as the socket: cancelling a context that a read or
	// write of coder/websocket is using tears the socket down without a close
	// frame, so it is cancelled only when the connection is over. Orderly
	// endings go through quit and bye instead.
	ctx    context.Context
	cancel context.CancelFunc
	quit   chan struct{}     // closed when the connection must end
	bye    chan closeRequest // the final message and close code, set once

	live *liveQueue           // live records, bounded
	ctrl chan control.Message // replies from the reader (pong, error), bounded
	reqs chan control.Message // resume and cursor_reset, bounded

	lagging atomic.Bool
	lagMu   sync.Mutex
	lagFrom map[int32]int64 // first record each partition missed live while lagging
	lagN    int64           // records missed live since the last catch-up

	closeOnce sync.Once

	// Owned by the writer goroutine.
	scratch     []byte          // replayed records are framed here
	sent        map[int32]int64 // newest offset sent per partition (partition replay and live)
	blocked     map[int32]bool  // partitions a capped replay left unfinished
	rs          replayState     // backlog, replay allowance (backlog.go)
	windowStart time.Time
	windowLag   int64
	lifetimeLag int64
}

type closeRequest struct {
	msg    control.Message
	status websocket.StatusCode
	reason string
}

// errClosing ends the writer after a deliberate close.
var errClosing = errors.New("connection closing")

func (h *Hub) serve(ws *websocket.Conn, cork *corkConn, ip string, admin bool) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		h: h, ws: ws, cork: cork, ip: ip, admin: admin, ctx: ctx, cancel: cancel,
		live:        newLiveQueue(h.cfg.ClientQueue),
		ctrl:        make(chan control.Message, 16),
		reqs:        make(chan control.Message, 4),
		quit:        make(chan struct{}),
		bye:         make(chan closeRequest, 1),
		lagFrom:     map[int32]int64{},
		sent:        map[int32]int64{},
		blocked:     map[int32]bool{},
		windowStart: time.Now(),
	}
	h.add(c)
	defer h.remove(c)

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		c.readLoop()
	}()
	if err := c.writeLoop(); err != nil && !errors.Is(err, errClosing) && c.ctx.Err() == nil {
		h.log.Debug("connection ended", "ip", ip, "err", err)
	}
	cancel()
	ws.CloseNow() // no-op after an orderly close
	<-readDone
}

// shutdown asks the writer to send m (if any), close with status and end.
// Safe from any goroutine, any number of times; the first request wins.
func (c *conn) shutdown(status websocket.StatusCode, reason string) {
	c.requestClose(nil, status, reason)
}

func (c *conn) requestClose(m control.Message, status websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.bye <- closeRequest{msg: m, status: status, reason: reason}
		close(c.quit)
	})
}

// quitting reports whether the connection was asked to end; long replays
// check it between records.
func (c *conn) quitting() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// finish sends the final message and the close frame, from the writer.
func (c *conn) finish() error {
	b := <-c.bye
	c.writeBestEffort(b.msg)
	_ = c.flush()
	_ = c.ws.Close(b.status, b.reason) // waits for the peer's close frame, at most 5 s
	return errClosing
}

// readLoop parses client frames until the connection ends. Bad input gets an
// error message and the connection lives on, except where upstream (and
// safety) require a disconnect: oversized frames and oversized resumes.
func (c *conn) readLoop() {
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				c.h.m.ControlOversized.Inc()
			}
			if brokeProtocol(err) {
				// coder/websocket refuses an unmasked frame or a length
				// with its top bit set without closing: close with 1002,
				// from the writer, as RFC 6455 §7.4.1 asks.
				c.h.m.ClientProtocolErrors.Inc()
				c.requestClose(nil, websocket.StatusProtocolError, closeReason("protocol error: "+err.Error()))
				return
			}
			// The peer is gone or the socket closed: nothing more can be
			// written either.
			c.shutdown(websocket.StatusNormalClosure, "")
			c.cancel()
			return
		}
		if !c.dispatch(typ, data) {
			return
		}
	}
}

// dispatch handles one client frame: replies go to the writer through
// bounded queues, so a hostile client cannot make the reader block. It
// returns false when the connection must end (after a final message).
func (c *conn) dispatch(typ websocket.MessageType, data []byte) bool {
	if typ != websocket.MessageText {
		return true // binary frames from clients mean nothing
	}
	if len(data) > control.MaxControlFrameBytes {
		c.h.m.ControlOversized.Inc()
		c.requestClose(control.FrameTooLargeError(len(data)), websocket.StatusMessageTooBig, "control frame too large")
		return false
	}
	msg, err := control.Parse(data)
	if err != nil {
		var limit *control.LimitError
		if errors.As(err, &limit) && !errors.Is(err, control.ErrFrameTooLarge) {
			c.requestClose(control.ErrorFor(err), websocket.StatusPolicyViolation, "resume too large")
			return false
		}
		c.h.m.ControlParseFailures.Inc()
		c.reply(control.ErrorFor(err))
		return true
	}
	switch m := msg.(type) {
	case *control.Ping:
		c.reply(&control.Pong{})
	case *control.Resume:
		if len(m.Rejected) > 0 {
			c.reply(rejectedError(m.Rejected))
		}
		c.request(m)
	case *control.CursorReset:
		c.request(m)
	default:
		c.h.m.ControlParseFailures.Inc()
		c.reply(&control.Error{Code: control.CodeInvalidControl, Message: fmt.Sprintf("%q is a server message, not a request", m.Type())})
	}
	return true
}

// rejectedError summarises invalid resume entries, bounded.
func rejectedError(rej []error) *control.Error {
	var parts []string
	for i, e := range rej {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(rej)-5))
			break
		}
		parts = append(parts, e.Error())
	}
	return &control.Error{Code: control.CodeInvalidControl, Message: "resume entries ignored: " + strings.Join(parts, "; ")}
}

// reply queues a message for the writer; a client flooding bad frames loses
// replies, not the connection.
func (c *conn) reply(m control.Message) {
	select {
	case c.ctrl <- m:
	default:
	}
}

func (c *conn) request(m control.Message) {
	select {
	case c.reqs <- m:
	default:
		c.reply(&control.Error{Code: control.CodeInvalidControl, Message: "too many requests in progress; wait for replay_complete"})
	}
}

// writeLoop is the only writer of the socket. Live records start flowing
// after the client's first request (resume or cursor_reset) or, for a client
// that never sends one, after the resume grace: until then they wait in the
// queue, so a resume is never preceded by newer live records (which would
// make offsets go backwards) and the records it replays are filtered out of
// the queue.
//
// The select is on the writer's hot path (once per record per client), and
// its cost grows with its cases: it waits on quit alone for the end (ctx is
// only cancelled after quit is closed), and the grace timer drops out once
// it has served.
func (c *conn) writeLoop() error {
	var live <-chan struct{} // the live queue's token, once records may flow
	grace := time.NewTimer(c.h.cfg.ResumeGrace)
	defer grace.Stop()
	graceC := grace.C
	for {
		if live != nil && c.lagging.Load() {
			c.batch()
			if err := c.catchUp(); err != nil {
				return err
			}
		}
		// Frames are batched while there is work; send them before waiting.
		if len(c.ctrl) == 0 && len(c.reqs) == 0 && (live == nil || c.live.len() == 0) {
			if err := c.flush(); err != nil {
				return err
			}
		}
		reqs, page, refill := c.replayGates(live != nil)
		select {
		case <-c.quit:
			return c.finish()
		case <-graceC:
			live, graceC = c.live.ready, nil
		case m := <-c.ctrl:
			c.batch()
			if err := c.writeText(m); err != nil {
				return err
			}
		case req := <-reqs:
			c.batch()
			if err := c.takeRequest(req); err != nil {
				return err
			}
			live, graceC = c.live.ready, nil
		case <-live:
			// Also the wake-up of a client that began lagging: the loop's
			// top catches it up.
			c.batch()
			if err := c.forwardQueued(); err != nil {
				return err
			}
		case <-page:
			if err := c.replayWork(); err != nil {
				return err
			}
		case <-refill:
		}
	}
}

// liveBatch is the most live records the writer sends before it looks at
// its other work (control replies, requests, a close).
const liveBatch = 64

// forwardQueued sends queued live records, at most liveBatch; it leaves the
// queue's token for the rest.
func (c *conn) forwardQueued() error {
	for range liveBatch {
		rec, ok := c.live.pop()
		if !ok {
			return nil
		}
		if err := c.forward(rec); err != nil {
			return err
		}
	}
	c.live.signal()
	return nil
}

// batch makes the frames that follow reach the socket together, at the next
// flush (the writer flushes before it waits): a record's cursor and value
// then cost one system call, not two, and a replay a few per page.
func (c *conn) batch() {
	if c.cork != nil {
		c.cork.cork()
	}
}

// forward sends a live record unless this connection already has it (a
// replay sent it) or a capped replay left its partition unfinished.
func (c *conn) forward(rec liveRecord) error {
	if c.blocked[rec.Partition] {
		return nil
	}
	if rec.gap != nil {
		return c.forwardGap(rec)
	}
	if last, ok := c.sent[rec.Partition]; ok && rec.Offset <= last {
		return nil
	}
	var err error
	if c.cork != nil {
		err = c.writeWire(rec.wire)
	} else {
		err = c.writePair(rec.Record)
	}
	if err != nil {
		return err
	}
	c.sent[rec.Partition] = rec.Offset
	return nil
}

// forwardGap tells the client of a hole the source skipped, unless it is
// already past it; the hole counts as sent, so nothing older follows.
func (c *conn) forwardGap(rec liveRecord) error {
	last, ok := c.sent[rec.Partition]
	if ok && last >= rec.gapTo {
		return nil
	}
	g := *rec.gap
	if ok && last >= rec.Offset {
		from := last + 1
		g = *control.PartitionGap(rec.Partition, from, rec.gapTo)
		g.Message = rec.gap.Message
	}
	if err := c.writeText(&g); err != nil {
		return err
	}
	c.sent[rec.Partition] = rec.gapTo
	return nil
}

// writePair sends the cursor frame and the value back to back.
func (c *conn) writePair(rec replay.Record) error {
	if c.cork != nil {
		c.scratch = appendPair(c.scratch[:0], rec)
		err := c.writeWire(c.scratch)
		if cap(c.scratch) > corkLimit {
			c.scratch = nil // a huge value: do not keep its buffer
		}
		return err
	}
	cursor := (&control.Cursor{Partition: rec.Partition, Offset: rec.Offset}).AppendJSON(nil)
	if err := c.write(websocket.MessageText, cursor); err != nil {
		return err
	}
	return c.write(websocket.MessageBinary, rec.Value)
}

// writeWire sends frames framed by appendPair, through the cork.
func (c *conn) writeWire(wire []byte) error {
	if _, err := c.cork.Write(wire); err != nil {
		return c.sendError(err, false)
	}
	return nil
}

func (c *conn) writeText(m control.Message) error {
	return c.write(websocket.MessageText, m.AppendJSON(nil))
}

// write sends one frame within the send timeout (M-1029): a client that
// stops reading is dropped, on every path.
func (c *conn) write(typ websocket.MessageType, data []byte) error {
	if c.cork != nil {
		// Every write to the socket under the cork carries the send timeout
		// as its deadline, and the library's locks give up when the socket
		// closes: the frame needs no timer of its own. A context without
		// Done spares two allocations and a timer per frame, which thousands
		// of clients at tens of records per second would pay (issue 13 §3).
		// The cost: a write blocked when the connection ends is cut by its
		// deadline, not at once.
		if err := c.ws.Write(context.Background(), typ, data); err != nil {
			return c.sendError(err, false)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.SendTimeout)
	defer cancel()
	err := c.ws.Write(ctx, typ, data)
	if err == nil {
		return nil
	}
	// Our own deadline shows as DeadlineExceeded on ctx, or as a socket
	// deadline when the cork flushed; the connection ending meanwhile shows
	// as Canceled.
	return c.sendError(err, errors.Is(ctx.Err(), context.DeadlineExceeded))
}

// flush sends what the cork holds and stops batching until the next cork.
func (c *conn) flush() error {
	if c.cork == nil {
		return nil
	}
	if err := c.cork.uncork(); err != nil {
		return c.sendError(err, false)
	}
	return nil
}

// sendError counts a failed send and wraps it.
func (c *conn) sendError(err error, deadline bool) error {
	if deadline || isTimeout(err) {
		c.h.sendTimeout.Add(1)
		c.h.m.SendTimeout.Inc()
		return fmt.Errorf("send timed out after %v: %w", c.h.cfg.SendTimeout, err)
	}
	if c.ctx.Err() == nil {
		c.h.sendFailed.Add(1)
		c.h.m.SendFailed.Inc()
	}
	return fmt.Errorf("send: %w", err)
}

// writeBestEffort sends a final message (error, disconnect) ignoring failure.
func (c *conn) writeBestEffort(m control.Message) {
	if m == nil || c.ctx.Err() != nil {
		return
	}
	_ = c.writeText(m)
}

// handle runs a resume or cursor_reset.
func (c *conn) handle(req control.Message) error {
	switch m := req.(type) {
	case *control.Resume:
		return c.resume(m)
	case *control.CursorReset:
		return c.cursorReset(m)
	}
	return nil
}
