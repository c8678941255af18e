//go:build js && wasm

package session

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
)

// httpGet fetches url with the browser's fetch. net/http's client would do
// the same through its own fetch adapter, but linking it brings the whole
// native transport (TLS, HTTP/2) into app.wasm: about 0.5 MB of brotli for
// two small GETs.
func httpGet(ctx context.Context, url string, limit int) (status int, body []byte, err error) {
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	finish := func(r result) { // callbacks must never block
		select {
		case done <- r:
		default:
		}
	}
	abort := js.Global().Get("AbortController").New()
	opts := js.Global().Get("Object").New()
	opts.Set("signal", abort.Get("signal"))
	opts.Set("cache", "no-store")

	var onResponse, onBody, onError js.Func
	onError = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "fetch failed"
		if len(args) > 0 && !args[0].IsUndefined() && !args[0].IsNull() {
			msg = args[0].Call("toString").String()
		}
		finish(result{err: errors.New(msg)})
		return nil
	})
	var code int
	onBody = js.FuncOf(func(_ js.Value, args []js.Value) any {
		buf := js.Global().Get("Uint8Array").New(args[0])
		n := buf.Get("byteLength").Int()
		if n > limit {
			finish(result{err: fmt.Errorf("response of %d bytes is over the %d-byte limit", n, limit)})
			return nil
		}
		b := make([]byte, n)
		js.CopyBytesToGo(b, buf)
		finish(result{status: code, body: b})
		return nil
	})
	onResponse = js.FuncOf(func(_ js.Value, args []js.Value) any {
		code = args[0].Get("status").Int()
		args[0].Call("arrayBuffer").Call("then", onBody).Call("catch", onError)
		return nil
	})
	defer func() {
		onResponse.Release()
		onBody.Release()
		onError.Release()
	}()
	js.Global().Call("fetch", url, opts).Call("then", onResponse).Call("catch", onError)
	select {
	case r := <-done:
		return r.status, r.body, r.err
	case <-ctx.Done():
		abort.Call("abort")
		// The promise settles (rejected with AbortError) before the
		// callbacks may be released.
		<-done
		return 0, nil, ctx.Err()
	}
}
