package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

const svgNS = "http://www.w3.org/2000/svg"

// svg makes an SVG element: go-app creates elements in the HTML namespace
// unless told otherwise, and the browser draws nothing then.
func svg(tag string) app.HTMLElem { return app.Elem(tag).XMLNS(svgNS) }

// dataOf reads a data-* attribute of the element whose handler runs.
// Handlers read what they act on from the DOM rather than from captured
// variables: go-app keeps an element's first handler as long as the
// function literal is the same (it compares code pointers), so captured
// values go stale when the element is reused for other data.
func dataOf(ctx app.Context, key string) string {
	v := ctx.JSSrc().Get("dataset").Get(key)
	if !v.Truthy() {
		return ""
	}
	return v.String()
}

// intData reads a numeric data-* attribute; ok is false when absent.
func intData(ctx app.Context, key string) (int, bool) {
	n, err := strconv.Atoi(dataOf(ctx, key))
	return n, err == nil
}
