//go:build js && wasm

package session

import (
	"encoding/json"
	"syscall/js"
)

// Expose publishes a read-only window.dashstream: getters for the main
// counts and snapshot(), which returns every figure of Debug as a fresh
// plain object. Nothing on it changes the session. The returned function
// removes it.
func Expose(s *Session) (release func()) {
	obj := js.Global().Get("Object").New()
	define := js.Global().Get("Object").Get("defineProperty")
	var funcs []js.Func
	getter := func(name string, get func(Debug) any) {
		f := js.FuncOf(func(js.Value, []js.Value) any { return get(s.Debug()) })
		funcs = append(funcs, f)
		desc := js.Global().Get("Object").New()
		desc.Set("get", f)
		desc.Set("enumerable", true)
		define.Invoke(obj, name, desc)
	}
	getter("state", func(d Debug) any { return d.State })
	getter("epoch", func(d Debug) any { return float64(d.Epoch) })
	getter("runs", func(d Debug) any { return d.Runs })
	getter("frames", func(d Debug) any { return float64(d.Frames) })
	getter("applied", func(d Debug) any { return float64(d.Applied) })
	getter("hashesVerified", func(d Debug) any { return float64(d.HashesVerified) })
	getter("quarantined", func(d Debug) any { return d.Quarantined })
	getter("cursorsCommitted", func(d Debug) any { return float64(d.CursorsCommitted) })
	getter("decodeErrors", func(d Debug) any { return jsonValue(d.DecodeErrors) })
	snap := js.FuncOf(func(js.Value, []js.Value) any { return jsonValue(s.Debug()) })
	funcs = append(funcs, snap)
	obj.Set("snapshot", snap)
	js.Global().Get("Object").Call("freeze", obj)
	js.Global().Set("dashstream", obj)
	return func() {
		js.Global().Delete("dashstream")
		for _, f := range funcs {
			f.Release()
		}
	}
}

// jsonValue turns a Go value into a fresh JavaScript object through JSON
// (the figures are small; this keeps the mapping in one place).
func jsonValue(v any) js.Value {
	b, err := json.Marshal(v)
	if err != nil {
		return js.Null()
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}
