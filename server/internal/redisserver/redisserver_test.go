package redisserver

import (
	"testing"
)

func TestStartAnswersPingAndStopSilencesIt(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("PING after Start: %v", err)
	}
	s.Stop()
	if err := ping(s.Addr()); err == nil {
		t.Fatal("PING answered after Stop")
	}
	s.Stop() // a second Stop is harmless
}

func TestRestartComesBackOnTheSamePort(t *testing.T) {
	s := Start(t)
	port := s.Port()
	s.Restart() // from running
	if s.Port() != port {
		t.Fatalf("port changed from %d to %d", port, s.Port())
	}
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	s.Stop()
	s.Restart() // from stopped
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("PING after Stop+Restart: %v; output:\n%s", err, s.Output())
	}
}

func TestURLNamesTheLoopbackAddress(t *testing.T) {
	s := &Server{port: 6390}
	if got, want := s.URL(), "redis://127.0.0.1:6390/0"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}
