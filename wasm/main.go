// Command wasm is the dashboard's browser program: build it with
// GOOS=js GOARCH=wasm into web/app.wasm (make wasm). Outside a browser it
// does nothing, which lets `go vet ./...` and `go build ./...` include it.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/ui"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
