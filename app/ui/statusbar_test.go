package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
)

func TestPages_PrerenderTitleConnectingStateAndStatusBar(t *testing.T) {
	e := app.NewTestEngine()
	p := &OverviewPage{src: orNone(nil)}
	if err := e.Load(p); err != nil {
		t.Fatalf("load overview: %v", err)
	}
	e.ConsumeAll()
	html := app.HTMLString(p)
	runtime := `data-runtime="prerendered"`
	if app.IsClient {
		runtime = `data-runtime="wasm"`
	}
	for _, want := range []string{`id="title"`, Title, `data-state="connecting"`, `aria-live="polite"`, runtime, `id="status-bar"`} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered page lacks %q:\n%s", want, html)
		}
	}
	if n := strings.Count(html, `aria-live="polite"`); n != 1 {
		t.Errorf("%d polite live regions, want one (the status bar's announcement)", n)
	}
}

func TestStatusBar_ShowsTheHealthModel(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		h    session.Health
		want []string
	}{
		{"connected", session.Health{State: session.Connected, Epoch: 3, Applied: 1234, HashesVerified: 99, Quarantined: 2, QueueDepth: 1, ApplyLag: 1500 * time.Microsecond},
			[]string{`data-state="connected"`, `id="conn-announce"`, `role="status"`, ">Connected<", ">3<", ">1234<", ">99<", ">2<", ">2ms<"}},
		{"unreachable says so in words, with the countdown", session.Health{State: session.Reconnecting, Unreachable: true,
			LastError: "version: GET http://x/version: TypeError: Failed to fetch", NextRetry: at.Add(3200 * time.Millisecond),
			DecodeErrors: map[string]uint64{"timeout": 1, "corrupt_zstd": 2}},
			[]string{`data-state="reconnecting"`, ">Server unreachable<", ", retrying in 4 s", `title="version: GET http://x/version: TypeError: Failed to fetch"`,
				"decode errors", ">3<"}},
		{"a lost connection", session.Health{State: session.Reconnecting, LastError: "connection ended", NextRetry: at.Add(-time.Second)},
			[]string{">Connection lost<", ", retrying now…"}},
		{"stalled", session.Health{State: session.Stalled}, []string{`data-state="stalled"`, "Stalled"}},
		{"schema mismatch", session.Health{State: session.Replaying, SchemaMismatch: "Schema 2 here.", ReplayingThreads: []string{"a"}},
			[]string{"Schema 2 here.", "replaying runs", "Catching up…"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			html := app.HTMLString(StatusBar(c.h, at))
			for _, w := range c.want {
				if !strings.Contains(html, w) {
					t.Errorf("lacks %q:\n%s", w, html)
				}
			}
			// The raw error is never the visible text.
			if c.h.LastError != "" && strings.Contains(html, ">"+c.h.LastError) {
				t.Errorf("shows the raw error:\n%s", html)
			}
			if n := strings.Count(html, `aria-live="polite"`); n != 1 {
				t.Errorf("%d live regions, want the announcement only", n)
			}
		})
	}
}
