// Command wasm is the dashboard's browser program: build it with
// GOOS=js GOARCH=wasm into web/app.wasm (make wasm). Outside a browser it
// does nothing, which lets `go vet ./...` and `go build ./...` include it.
package main

import (
	"context"
	"log/slog"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/ui"
)

func main() {
	if !app.IsClient {
		ui.Routes(nil)
		app.RunWhenOnBrowser()
		return
	}
	// One session for the page's lifetime: it connects to the origin that
	// served the page and never gives up, so its context never ends.
	s, err := session.New(session.Config{})
	if err != nil {
		// Only a broken build gets here (the default Config is valid); the
		// pages still render and say they are not connected.
		slog.Error("dashboard session", "err", err)
		ui.Routes(nil)
		app.RunWhenOnBrowser()
		return
	}
	session.Expose(s)
	go s.Run(context.Background())
	ui.Routes(s)
	app.RunWhenOnBrowser()
}
