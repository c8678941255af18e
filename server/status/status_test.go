package status

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/server/source"
)

func model(st *source.Status, rh *ReplayHealth) *Model {
	return New(Inputs{
		Source:  func() source.Status { return *st },
		Clients: func() int { return 2 },
		Totals:  func() (int64, int64, int64) { return 1, 2, 3 },
		Replay:  func() ReplayHealth { return *rh },
		Version: map[string]any{"schema_version": 1},
	})
}

func TestHealth_StatusRules(t *testing.T) {
	cases := []struct {
		name string
		st   source.Status
		rh   ReplayHealth
		want string
	}{
		{"kafka unreachable", source.Status{Ready: false, Reason: "dial"}, ReplayHealth{}, "reconnecting"},
		{"no traffic yet is not an error", source.Status{Ready: true}, ReplayHealth{}, "waiting"},
		{"healthy", source.Status{Ready: true, Received: 500, LastMessage: time.Now()}, ReplayHealth{}, "healthy"},
		{"decode errors", source.Status{Ready: true, Received: 500, DecodeErrs: 10, LastMessage: time.Now()}, ReplayHealth{}, "degraded"},
		{"few decode errors on a small sample", source.Status{Ready: true, Received: 50, DecodeErrs: 5, LastMessage: time.Now()}, ReplayHealth{}, "healthy"},
		{"redis down", source.Status{Ready: true, Received: 5, LastMessage: time.Now()}, ReplayHealth{RedisEnabled: true, RedisLastError: "refused"}, "degraded"},
		{"paused partition", source.Status{Ready: true, Received: 5, LastMessage: time.Now(), Paused: map[int32]string{1: "bad"}}, ReplayHealth{RedisEnabled: true, RedisAvailable: true}, "degraded"},
	}
	for _, c := range cases {
		st, rh := c.st, c.rh
		m := model(&st, &rh)
		doc := m.Health()
		if doc["status"] != c.want {
			t.Errorf("%s: status %v, want %s (alert %v)", c.name, doc["status"], c.want, doc["alert"])
		}
		if doc["websocket_status"] != "2_clients_connected" {
			t.Errorf("%s: websocket_status %v", c.name, doc["websocket_status"])
		}
	}
}

func TestHealth_WindowsCountOnlyTheLast120Seconds(t *testing.T) {
	st := source.Status{Ready: true, Received: 1000, DecodeErrs: 100, LastMessage: time.Now()}
	rh := ReplayHealth{}
	m := model(&st, &rh)
	m.tick() // baseline sample
	st.Received, st.DecodeErrs = 1500, 100
	w := m.Health()["metrics"].(map[string]any)
	if w["messages_last_120s"] != int64(500) || w["decode_errors_last_120s"] != int64(0) {
		t.Errorf("windowed counts %v / %v", w["messages_last_120s"], w["decode_errors_last_120s"])
	}
	if m.Health()["status"] != "healthy" {
		t.Error("old decode errors outside the window still degrade health")
	}
}

func TestRoutes_ReadyzAnswers503WithTheReason(t *testing.T) {
	st := source.Status{Ready: false, Reason: "topic \"x\" does not exist"}
	rh := ReplayHealth{}
	mux := http.NewServeMux()
	model(&st, &rh).Routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 503 || !strings.Contains(w.Body.String(), "does not exist") {
		t.Errorf("/readyz: %d %s", w.Code, w.Body)
	}
	st.Ready = true
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 200 {
		t.Errorf("/readyz ready: %d", w.Code)
	}
	for _, path := range []string{"/healthz", "/health", "/version"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
}
