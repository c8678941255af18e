//go:build !(js && wasm)

package ui

// copyText does nothing outside a browser.
func copyText(string) {}
