//go:build !(js && wasm)

package ui

// download does nothing outside a browser; the server only prerenders.
func download(name, mime string, data []byte) {}
