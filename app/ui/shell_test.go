package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func TestShell_RendersTitleAndConnectingState(t *testing.T) {
	e := app.NewTestEngine()
	s := &Shell{}
	if err := e.Load(s); err != nil {
		t.Fatalf("load shell: %v", err)
	}
	e.ConsumeAll()
	html := app.HTMLString(s)
	runtime := `data-runtime="prerendered"`
	if app.IsClient {
		runtime = `data-runtime="wasm"`
	}
	for _, want := range []string{`id="title"`, Title, `data-state="connecting"`, "Connecting…", `aria-live="polite"`, runtime} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered shell lacks %q:\n%s", want, html)
		}
	}
}
