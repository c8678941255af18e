//go:build !(js && wasm)

package session

// Expose does nothing outside the browser: there is no window; use Debug.
func Expose(*Session) (release func()) { return func() {} }
