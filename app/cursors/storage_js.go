//go:build js && wasm

package cursors

import (
	"fmt"
	"syscall/js"
)

// LocalStorage is a Storage over window.localStorage. Every call catches the
// exceptions the browser may throw (SecurityError when storage is denied,
// QuotaExceededError when it is full) and returns them as errors.
type LocalStorage struct {
	ls js.Value
}

// NewLocalStorage returns window.localStorage as a Storage, or an error
// wrapping ErrUnavailable when the page may not use it (merely reading the
// property throws in some sandboxed or privacy modes).
func NewLocalStorage() (ls *LocalStorage, err error) {
	defer catch(&err)
	v := js.Global().Get("localStorage")
	if v.IsUndefined() || v.IsNull() {
		return nil, fmt.Errorf("%w: window.localStorage is missing", ErrUnavailable)
	}
	return &LocalStorage{ls: v}, nil
}

// newStorageFrom wraps any object with the Storage methods (tests use one
// that throws).
func newStorageFrom(v js.Value) *LocalStorage { return &LocalStorage{ls: v} }

// Get implements Storage; an exception reads as "no value".
func (l *LocalStorage) Get(key string) (value string, ok bool) {
	var err error
	defer func() {
		if err != nil {
			value, ok = "", false
		}
	}()
	defer catch(&err)
	v := l.ls.Call("getItem", key)
	if v.Type() != js.TypeString {
		return "", false
	}
	return v.String(), true
}

// Set implements Storage.
func (l *LocalStorage) Set(key, value string) (err error) {
	defer catch(&err)
	l.ls.Call("setItem", key, value)
	return nil
}

// Remove implements Storage; exceptions are ignored (nothing to remove).
func (l *LocalStorage) Remove(key string) {
	var err error
	defer catch(&err)
	l.ls.Call("removeItem", key)
}

// catch turns a JavaScript exception panicking out of syscall/js into an
// error; other panics go on.
func catch(err *error) {
	r := recover()
	if r == nil {
		return
	}
	jerr, ok := r.(js.Error)
	if !ok {
		panic(r)
	}
	name := jerr.Value.Get("name")
	if name.Type() == js.TypeString && (name.String() == "QuotaExceededError" || name.String() == "NS_ERROR_DOM_QUOTA_REACHED") {
		*err = fmt.Errorf("%w: %s", ErrQuotaExceeded, jerr.Error())
		return
	}
	*err = fmt.Errorf("%w: %s", ErrUnavailable, jerr.Error())
}

// BrowserStorage returns localStorage, or, when the page may not use it, a
// MemoryStorage (cursors then last until the page goes) after a warning.
func BrowserStorage(warn func(string)) Storage {
	ls, err := NewLocalStorage()
	if err != nil {
		if warn != nil {
			warn(fmt.Sprintf("cursors: localStorage unavailable (%v); cursors will not survive a reload", err))
		}
		return NewMemoryStorage()
	}
	return ls
}

// BindPageLifecycle flushes s when the page is hidden or unloaded
// (visibilitychange to hidden, pagehide): the last moment a write is sure
// to happen. The returned function removes the listeners.
func BindPageLifecycle(s *Store) (release func()) {
	doc := js.Global().Get("document")
	win := js.Global()
	onHide := js.FuncOf(func(js.Value, []js.Value) any {
		s.Flush()
		return nil
	})
	onVisibility := js.FuncOf(func(js.Value, []js.Value) any {
		if doc.Get("visibilityState").String() == "hidden" {
			s.Flush()
		}
		return nil
	})
	win.Call("addEventListener", "pagehide", onHide)
	doc.Call("addEventListener", "visibilitychange", onVisibility)
	return func() {
		win.Call("removeEventListener", "pagehide", onHide)
		doc.Call("removeEventListener", "visibilitychange", onVisibility)
		onHide.Release()
		onVisibility.Release()
	}
}
