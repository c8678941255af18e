//go:build js && wasm

package ui

import "syscall/js"

// init reads the seeds of the prerendered page before the wasm renders
// over it.
func init() {
	doc := js.Global().Get("document")
	if doc.IsUndefined() || doc.IsNull() {
		return
	}
	els := doc.Call("getElementsByClassName", seedClass)
	for i := 0; i < els.Length(); i++ {
		ds := els.Index(i).Get("dataset")
		path, body := ds.Get("path"), ds.Get("body")
		if path.Type() == js.TypeString && body.Type() == js.TypeString {
			putSeed(path.String(), body.String())
		}
	}
}
