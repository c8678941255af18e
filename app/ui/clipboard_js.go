//go:build js && wasm

package ui

import "syscall/js"

// copyText puts text on the clipboard: the Clipboard API where the page
// may use it (a secure context), else a selected textarea and the older
// copy command.
func copyText(text string) {
	nav := js.Global().Get("navigator")
	if cb := nav.Get("clipboard"); cb.Truthy() && js.Global().Get("isSecureContext").Truthy() {
		cb.Call("writeText", text)
		return
	}
	doc := js.Global().Get("document")
	ta := doc.Call("createElement", "textarea")
	ta.Set("value", text)
	ta.Get("style").Set("position", "fixed")
	ta.Get("style").Set("opacity", "0")
	doc.Get("body").Call("appendChild", ta)
	ta.Call("select")
	doc.Call("execCommand", "copy")
	ta.Call("remove")
}
