package httpguard

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// timedBody lifts the body deadline once the body has been read, so the
// connection's background read (which notices a client going away) is not
// cut by it during a long response.
type timedBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	g    *Guard
	done bool
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case b.done || err == nil:
	case errors.Is(err, io.EOF):
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.done = true
		b.g.cut.WithLabelValues("body_timeout").Inc()
	}
	return n, err
}

// pacedWriter bounds how long a response may go without progress. Every
// write gets a WriteStall deadline; while a write is blocked, a watchdog
// checks the connection's acknowledged byte count every WriteStall/2 and
// extends the deadline whenever the peer has taken more bytes. A socket
// send buffer holds megabytes and wakes a blocked writer only when a third
// of it has drained, so "the write call returned" is far too coarse a sign
// of progress for a slow link: the acknowledgements are the real one.
// Where they cannot be read (not Linux), each WriteChunk gets WriteStall.
// It keeps io.ReaderFrom, so files still go out with sendfile.
type pacedWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	g     *Guard
	stall time.Duration
	acked func() (uint64, bool) // bytes the peer acknowledged; nil if unknown
	cut   bool

	mu      sync.Mutex
	writing bool
	last    uint64
	watch   *time.Timer
}

func (p *pacedWriter) extend() { _ = p.rc.SetWriteDeadline(time.Now().Add(p.stall)) }

// begin and end bracket a blocking write.
func (p *pacedWriter) begin() {
	p.extend()
	if p.acked == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writing = true
	p.last, _ = p.acked()
	if p.watch == nil {
		p.watch = time.AfterFunc(p.stall/2, p.check)
	} else {
		p.watch.Reset(p.stall / 2)
	}
}

func (p *pacedWriter) end(err error) error {
	if p.acked != nil {
		p.mu.Lock()
		p.writing = false
		p.watch.Stop()
		p.mu.Unlock()
	}
	if err != nil && !p.cut && errors.Is(err, os.ErrDeadlineExceeded) {
		p.cut = true
		p.g.cut.WithLabelValues("write_stall").Inc()
	}
	return err
}

// check runs on the watchdog timer while a write is blocked.
func (p *pacedWriter) check() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.writing {
		return
	}
	if n, ok := p.acked(); ok && n > p.last {
		p.last = n
		p.extend()
	}
	p.watch.Reset(p.stall / 2)
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), WriteChunk)
		p.begin()
		m, err := p.ResponseWriter.Write(b[:n])
		written += m
		if err := p.end(err); err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// ReadFrom copies src in WriteChunk pieces through the underlying writer's
// ReadFrom. A *io.LimitedReader (what http.ServeContent passes) is unwrapped
// and re-limited per piece, so the *os.File inside stays visible to
// sendfile.
func (p *pacedWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := p.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{p}, src)
	}
	inner, outer := src, (*io.LimitedReader)(nil)
	if lr, ok := src.(*io.LimitedReader); ok {
		inner, outer = lr.R, lr
	}
	var total int64
	for {
		step := int64(WriteChunk)
		if outer != nil {
			if outer.N <= 0 {
				return total, nil
			}
			step = min(step, outer.N)
		}
		p.begin()
		n, err := rf.ReadFrom(&io.LimitedReader{R: inner, N: step})
		total += n
		if outer != nil {
			outer.N -= n
		}
		if err := p.end(err); err != nil {
			return total, err
		}
		if n < step {
			return total, nil // the source ended
		}
	}
}

// Flush flushes with a fresh stall deadline.
func (p *pacedWriter) Flush() {
	p.begin()
	_ = p.end(p.rc.Flush())
}

// Unwrap lets http.ResponseController reach the connection.
func (p *pacedWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
