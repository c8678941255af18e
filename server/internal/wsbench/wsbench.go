// Package wsbench is the lean WebSocket client of the fan-out benchmarks:
// thousands of them share the machine with the gateway they measure, so
// they must cost it as little as possible. It speaks just enough RFC 6455
// for that: the opening handshake, masked client frames, and unmasked
// server frames (fragmented or not) read through one large buffer, so that
// one system call takes in everything that arrived.
//
// It is hand-written because the libraries' clients (coder/websocket here)
// spend more CPU per frame than the gateway under test does: context
// registrations, locks and a small read buffer. The benchmarks' product
// side still uses the libraries. Benchmarks only: it has no compression,
// no UTF-8 validation and answers pings but sends none.
package wsbench

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Opcodes of the messages Write sends and ReadMessage returns.
const (
	Text   byte = 1
	Binary byte = 2

	opContinuation byte = 0
	opClose        byte = 8
	opPing         byte = 9
	opPong         byte = 10
)

// MaxMessage bounds one message (a server that sends more is wrong).
const MaxMessage = 64 << 20

// ErrClosed is returned once the server sent a close frame.
var ErrClosed = errors.New("websocket: closed by the server")

// Conn is one client connection. Its methods are not safe for concurrent
// use, except Close.
type Conn struct {
	nc  net.Conn
	br  *bufio.Reader
	msg []byte // a fragmented message being assembled
	// Subprotocol is the one the server selected.
	Subprotocol string
}

// Dial opens a WebSocket to a ws:// URL, offering subprotocols.
func Dial(ctx context.Context, rawURL string, subprotocols ...string) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "ws" {
		return nil, fmt.Errorf("wsbench: need a ws:// URL, got %q", rawURL)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("wsbench: dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	var key [16]byte
	rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", u.RequestURI(), u.Host, k)
	if len(subprotocols) > 0 {
		fmt.Fprintf(&req, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(subprotocols, ", "))
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(nc, req.String()); err != nil {
		nc.Close()
		return nil, fmt.Errorf("wsbench: handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("wsbench: handshake: %w", err)
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, fmt.Errorf("wsbench: handshake refused: %s", resp.Status)
	}
	nc.SetDeadline(time.Time{})
	return &Conn{nc: nc, br: br, Subprotocol: resp.Header.Get("Sec-WebSocket-Protocol")}, nil
}

// Write sends one message (Text or Binary) in one masked frame.
func (c *Conn) Write(opcode byte, p []byte) error {
	return c.writeFrame(opcode, p)
}

func (c *Conn) writeFrame(opcode byte, p []byte) error {
	f := make([]byte, 0, 14+len(p))
	f = append(f, 0x80|opcode)
	switch n := len(p); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	f = append(f, mask[:]...)
	for i, b := range p {
		f = append(f, b^mask[i&3])
	}
	if _, err := c.nc.Write(f); err != nil {
		return fmt.Errorf("wsbench: write: %w", err)
	}
	return nil
}

// ReadMessage returns the next data message: its opcode (Text or Binary)
// and payload, valid until the next call. It answers pings on the way and
// returns ErrClosed after a close frame.
func (c *Conn) ReadMessage() (opcode byte, payload []byte, err error) {
	c.msg = c.msg[:0]
	var first byte
	for {
		fin, op, p, err := c.readFrame()
		if err != nil {
			return 0, nil, err
		}
		switch op {
		case opPing:
			if err := c.writeFrame(opPong, p); err != nil {
				return 0, nil, err
			}
			continue
		case opPong:
			continue
		case opClose:
			return 0, nil, ErrClosed
		case opContinuation:
			if first == 0 {
				return 0, nil, errors.New("wsbench: continuation frame without a first frame")
			}
		case Text, Binary:
			if first != 0 {
				return 0, nil, errors.New("wsbench: new message inside a fragmented one")
			}
			first = op
			if fin {
				return op, p, nil // the common case: no copy
			}
		default:
			return 0, nil, fmt.Errorf("wsbench: unknown opcode %d", op)
		}
		if len(c.msg)+len(p) > MaxMessage {
			return 0, nil, fmt.Errorf("wsbench: message larger than %d bytes", MaxMessage)
		}
		c.msg = append(c.msg, p...)
		if fin {
			return first, c.msg, nil
		}
	}
}

// readFrame reads one frame. Its payload is a view of the read buffer when
// it fits there, valid until the next read.
func (c *Conn) readFrame() (fin bool, opcode byte, payload []byte, err error) {
	h, err := c.br.Peek(2)
	if err != nil {
		return false, 0, nil, c.readErr(err)
	}
	fin, opcode = h[0]&0x80 != 0, h[0]&0x0F
	if h[0]&0x70 != 0 || h[1]&0x80 != 0 {
		return false, 0, nil, errors.New("wsbench: reserved bits or a masked server frame")
	}
	n, hl := int64(h[1]&0x7F), 2
	switch n {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	if h, err = c.br.Peek(hl); err != nil {
		return false, 0, nil, c.readErr(err)
	}
	switch hl {
	case 4:
		n = int64(binary.BigEndian.Uint16(h[2:]))
	case 10:
		n = int64(binary.BigEndian.Uint64(h[2:]))
	}
	if n < 0 || n > MaxMessage {
		return false, 0, nil, fmt.Errorf("wsbench: frame of %d bytes", n)
	}
	c.br.Discard(hl)
	if int(n) <= c.br.Size() {
		p, err := c.br.Peek(int(n))
		if err != nil {
			return false, 0, nil, c.readErr(err)
		}
		c.br.Discard(int(n))
		return fin, opcode, p, nil
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return false, 0, nil, c.readErr(err)
	}
	return fin, opcode, p, nil
}

func (c *Conn) readErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("wsbench: read: %w", err)
}

// Close closes the socket without a close handshake; safe from any goroutine.
func (c *Conn) Close() error { return c.nc.Close() }

// RaiseFileLimit lifts this process's open-file limit to at least need, the
// hard limit too if it must (which takes CAP_SYS_RESOURCE): a benchmark with
// thousands of clients on loopback holds two descriptors per client when
// the server is in the same process. A child process inherits the limit.
func RaiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur >= need {
		return nil
	}
	lim.Cur = need
	lim.Max = max(lim.Max, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("open-file limit below %d and cannot be raised: %w", need, err)
	}
	return nil
}
