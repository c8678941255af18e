//go:build js && wasm

package cursors

import (
	"errors"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
)

// These tests run in headless Chromium (make test) against the real
// window.localStorage.

func localStorage(t *testing.T) *LocalStorage {
	t.Helper()
	ls, err := NewLocalStorage()
	if err != nil {
		t.Fatalf("localStorage: %v", err)
	}
	t.Cleanup(func() { js.Global().Get("localStorage").Call("clear") })
	js.Global().Get("localStorage").Call("clear")
	return ls
}

func rawItem(key string) js.Value { return js.Global().Get("localStorage").Call("getItem", key) }

// M-707: an offset above 2^53 survives a (simulated) reload exactly: a
// fresh Store over a fresh localStorage handle reads back what the first
// wrote, and what is stored is a decimal string JavaScript cannot round.
func TestLocalStorage_OffsetAbove2To53SurvivesReload(t *testing.T) {
	s := Open(Options{Storage: localStorage(t), Namespace: ns, Warn: func(m string) { t.Errorf("warning: %s", m) }})
	s.CommitOffset(0, 9007199254740993)
	s.CommitSequence("thread-a", 18446744073709551615)
	s.Flush()
	if got := rawItem(OffsetsKey + ":" + ns).String(); got != `{"0":"9007199254740993"}` {
		t.Fatalf("stored %s", got)
	}
	// JavaScript reading it as a number would get ...992; as stored it is
	// a string and stays exact.
	parsed := js.Global().Get("JSON").Call("parse", rawItem(OffsetsKey+":"+ns))
	if v := parsed.Get("0"); v.Type() != js.TypeString || v.String() != "9007199254740993" {
		t.Fatalf("JSON.parse gives %v", v)
	}
	fresh, err := NewLocalStorage()
	if err != nil {
		t.Fatal(err)
	}
	r := Open(Options{Storage: fresh, Namespace: ns, Warn: func(m string) { t.Errorf("warning: %s", m) }})
	if o, ok := r.Offset(0); !ok || o != 9007199254740993 {
		t.Fatalf("after reload: %d %v", o, ok)
	}
	if q, _ := r.Sequence("thread-a"); q != 18446744073709551615 {
		t.Fatalf("sequence after reload: %d", q)
	}
}

func TestLocalStorage_GarbageAndForeignValuesWarn(t *testing.T) {
	ls := localStorage(t)
	raw := js.Global().Get("localStorage")
	for _, c := range []struct{ offsets, sequences, warn string }{
		{"{not json", "[1,2]", "ignoring stored"},
		{`{"0":{"nested":true}}`, `"a string"`, "dropped"},
		// A lone surrogate: JavaScript strings may hold one; it reaches Go
		// as U+FFFD and is an invalid key, not a crash.
		{`{"0":"1"}`, "{\"\\ud800\":\"1\",\"x\":\"2\"}", ""},
	} {
		raw.Call("setItem", OffsetsKey+":"+ns, c.offsets)
		raw.Call("setItem", SequencesKey+":"+ns, c.sequences)
		w := &warnings{}
		s := Open(Options{Storage: ls, Namespace: ns, Warn: w.warn})
		if c.warn != "" && !strings.Contains(w.all(), c.warn) {
			t.Errorf("%q: warnings %q", c.offsets, w.all())
		}
		s.CommitOffset(3, 3) // still usable
		s.Flush()
	}
	lone := js.Global().Get("String").Call("fromCharCode", 0xD800).String() + "x"
	raw.Call("setItem", SequencesKey+":"+ns, `{"`+lone+`":"1"}`)
	s := Open(Options{Storage: ls, Namespace: ns, Warn: func(string) {}})
	if len(s.Sequences()) > 1 {
		t.Fatalf("sequences %v", s.Sequences())
	}
}

// A full localStorage gives a warning and an in-memory store that keeps
// working; once space is back, writes resume.
func TestLocalStorage_OverQuotaWarnsAndKeepsGoing(t *testing.T) {
	ls := localStorage(t)
	raw := js.Global().Get("localStorage")
	filler := strings.Repeat("x", 1<<20)
	n := 0
	for ; n < 64; n++ {
		if err := ls.Set("filler-"+string(rune('a'+n)), filler); err != nil {
			if !errors.Is(err, ErrQuotaExceeded) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	if n == 64 {
		t.Skip("localStorage quota not reached with 64 MiB")
	}
	// Top it up to the last byte the quota allows: halve the chunk each
	// time one does not fit.
	k := 0
	for size := 1 << 19; size > 0; size /= 2 {
		for ls.Set("tail-"+strconv.Itoa(k), strings.Repeat("z", size)) == nil {
			k++
		}
	}
	w := &warnings{}
	s := Open(Options{Storage: ls, Namespace: ns, Warn: w.warn})
	s.CommitOffset(0, 42)
	s.CommitSequence("thread", 7)
	s.Flush()
	if !strings.Contains(w.all(), "quota") {
		t.Fatalf("no quota warning: %q", w.all())
	}
	if o, _ := s.Offset(0); o != 42 {
		t.Fatalf("in-memory offset lost: %d", o)
	}
	raw.Call("clear")
	s.CommitOffset(0, 43)
	s.Flush()
	if got := rawItem(OffsetsKey + ":" + ns).String(); got != `{"0":"43"}` {
		t.Fatalf("after space came back: %s", got)
	}
}

// A storage whose every method throws (a denied localStorage) yields errors
// and "no value", never a panic.
func TestLocalStorage_ExceptionsBecomeErrors(t *testing.T) {
	thrower := js.Global().Get("Function").New(`throw new DOMException("denied", "SecurityError")`)
	obj := js.Global().Get("Object").New()
	for _, m := range []string{"getItem", "setItem", "removeItem"} {
		obj.Set(m, thrower)
	}
	ls := newStorageFrom(obj)
	if _, ok := ls.Get("k"); ok {
		t.Fatalf("Get succeeded")
	}
	if err := ls.Set("k", "v"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("Set error %v", err)
	}
	ls.Remove("k")
	w := &warnings{}
	s := Open(Options{Storage: ls, Namespace: ns, Warn: w.warn})
	s.CommitOffset(0, 1)
	s.Flush()
	if !strings.Contains(w.all(), "could not persist") {
		t.Fatalf("warnings %q", w.all())
	}
	if BrowserStorage(nil) == nil {
		t.Fatalf("no browser storage")
	}
}

func TestBindPageLifecycle_FlushesOnPagehideAndHidden(t *testing.T) {
	ls := localStorage(t)
	c := newClock()
	s := Open(Options{Storage: ls, Namespace: ns, Now: c.now, Warn: func(string) {}})
	release := BindPageLifecycle(s)
	defer release()
	s.CommitOffset(0, 1) // written at once
	s.CommitOffset(0, 2) // throttled
	if got := rawItem(OffsetsKey + ":" + ns).String(); got != `{"0":"1"}` {
		t.Fatalf("before pagehide: %s", got)
	}
	js.Global().Call("dispatchEvent", js.Global().Get("Event").New("pagehide"))
	if got := rawItem(OffsetsKey + ":" + ns).String(); got != `{"0":"2"}` {
		t.Fatalf("after pagehide: %s", got)
	}
	// visibilitychange flushes only when the page is hidden; headless
	// Chromium reports "visible", so this one must not write.
	s.CommitOffset(0, 3)
	js.Global().Get("document").Call("dispatchEvent", js.Global().Get("Event").New("visibilitychange"))
	want := `{"0":"2"}`
	if js.Global().Get("document").Get("visibilityState").String() == "hidden" {
		want = `{"0":"3"}`
	}
	if got := rawItem(OffsetsKey + ":" + ns).String(); got != want {
		t.Fatalf("after visibilitychange: %s, want %s", got, want)
	}
}
