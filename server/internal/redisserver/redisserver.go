// Package redisserver starts a real redis-server for tests: on a free
// loopback port, without persistence, stopped when the test ends. Tests can
// kill it mid-stream (Stop) and bring it back on the same port (Restart) to
// check that their code degrades and recovers.
//
// The binary is looked up on PATH (make test installs Debian's
// redis-server). When it is missing, Start skips the test with a NOTICE
// instead of failing, so a developer without Redis can still run the rest.
package redisserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is the program Start runs.
const Binary = "redis-server"

// startTimeout bounds how long Start and Restart wait for PING to answer.
const startTimeout = 15 * time.Second

// Server is one redis-server process owned by a test.
type Server struct {
	t    testing.TB
	path string
	port int
	dir  string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd's Wait returned
	output  *syncBuffer
	stopped bool
}

// Start runs redis-server on a free port of 127.0.0.1 with --save "" and
// --appendonly no, waits until it answers PING and stops it in t.Cleanup.
// It skips t when the binary is not on PATH.
func Start(t testing.TB) *Server {
	t.Helper()
	path, err := exec.LookPath(Binary)
	if err != nil {
		t.Skipf("NOTICE: %s not found on PATH (make test installs it); skipping a test that needs a real Redis", Binary)
	}
	s := &Server{t: t, path: path, dir: t.TempDir()}
	// A free port found by listening can be taken by someone else before
	// redis-server binds it; try a few ports before giving up.
	var lastErr error
	for range 5 {
		s.port, err = freePort()
		if err != nil {
			t.Fatalf("redisserver: find a free port: %v", err)
		}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redisserver: start %s: %v", Binary, lastErr)
	return nil
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the redis:// URL of database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Port is the TCP port, the same across Restart.
func (s *Server) Port() int { return s.port }

// Stop kills the server (SIGKILL, as a crash would) and waits for it to exit.
// Data is lost: the server runs without persistence. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.cmd == nil {
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(startTimeout):
		s.t.Errorf("redisserver: pid %d did not exit after SIGKILL", s.cmd.Process.Pid)
	}
}

// Restart starts the server again on the same port (stopping it first if it
// runs) and waits until it answers PING. The new server starts empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	// The kernel may hold the port briefly after the kill; retry until the
	// deadline rather than failing on the first bind error.
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redisserver: restart on port %d: %v", s.port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Output returns what the server printed so far, for failure messages.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.output == nil {
		return ""
	}
	return s.output.String()
}

// start runs one process and waits for PING; on failure the process is
// killed and reaped before start returns.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &syncBuffer{}
	cmd := exec.Command(s.path,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--protected-mode", "no",
		"--logfile", "",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", s.path, err)
	}
	exited := make(chan struct{})
	// The waiter is owned by this Server: it ends when the process exits,
	// which Stop forces.
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := waitPing(s.Addr(), exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	s.cmd, s.exited, s.output, s.stopped = cmd, exited, out, false
	return nil
}

// waitPing polls PING until +PONG, the process exits or startTimeout passes.
func waitPing(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redis-server exited during start")
		default:
		}
		if lastErr = ping(addr); lastErr == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no PONG from %s within %v: %w", addr, startTimeout, lastErr)
}

// ping speaks just enough RESP to check liveness, so this package needs no
// Redis client.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects process output written from exec's copying goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
