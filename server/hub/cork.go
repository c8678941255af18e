package hub

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// corkLimit is how much a corked connection buffers before it writes.
const corkLimit = 64 << 10

// corkConn batches small writes into few system calls. coder/websocket
// flushes every frame (two per record: cursor and value), which caps a
// connection at tens of thousands of records per second. While corked, its
// flushes accumulate here; they reach the socket every corkLimit bytes and
// whenever the writer uncorks, which it does before it waits for more work,
// so batching costs no latency. Every socket write carries a deadline, since
// a corked write no longer blocks inside the library's own timeout.
type corkConn struct {
	net.Conn
	timeout time.Duration

	mu     sync.Mutex
	corked bool
	buf    []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		if len(c.buf) >= corkLimit {
			if err := c.flushLocked(); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.write(p)
}

// write sends p within the timeout. The deadline is left in place after the
// write: every write sets its own, and clearing it would cost a second timer
// update per system call.
func (c *corkConn) write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.write(c.buf)
	c.buf = c.buf[:0]
	if cap(c.buf) > 4*corkLimit {
		c.buf = nil // a burst of huge values: do not keep its buffer
	}
	return err
}

// cork starts batching.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what is buffered and stops batching.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// isTimeout reports whether a write failed on its deadline.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// corkingWriter hands coder/websocket a corkConn when it hijacks the
// connection.
type corkingWriter struct {
	http.ResponseWriter
	timeout time.Duration
	conn    *corkConn
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("response writer cannot hijack")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc, timeout: w.timeout}
	// The library's writer buffer only sees control messages (records are
	// framed by appendPair and written to the cork directly), so it can be
	// small: every connection keeps one.
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.conn, 1024)), nil
}
