package control

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that everything it accepts is
// written back as valid JSON, and that the written frame parses to an equal
// message (ignoring Resume.Rejected and a legacy lastSequence above
// MaxSafeInteger, which AppendJSON deliberately drops).
func FuzzParse(f *testing.F) {
	for _, m := range everyType() {
		f.Add(m.AppendJSON(nil))
	}
	seeds := []string{
		// Every type in upstream and hand-written forms.
		`{"type":"resume","lastOffsetsByPartition":{"0":"42","1":7},"from":"cursor"}`,
		`{"type":"resume","lastOffsetsByPartition":{},"from":"latest"}`,
		`{"type":"resume","lastOffsetsByPartition":{"0":"1000000000"},"from":"cursor","resume_namespace":"v1_dG9waWM9ZA"}`,
		`{"type":"resume","resume_namespace":{"x":1},"lastOffsetsByPartition":{"0":1}}`,
		`{"type":"resume","resume_namespace":"","resume_namespace":"\u0000\ud800"}`,
		`{"type":"replay_complete","totalReplayed":50,"capped":true,"continuing":true,"live":"yes","mode":"cursor"}`,
		`{"type":"replay_complete","totalReplayed":1,"capped":false,"live":true,"mode":"cursor"}`,
		`{"type":"cursor_stale","partition":0,"requested":"1000000000","oldest":"0","reason":"past_end"}`,
		`{"type":"error","code":"REPLAY_RATE_LIMITED","message":"m"}`,
		`{"type":"resume","mode":"thread","lastSequencesByThread":{"t":"18446744073709551615","u":0}}`,
		`{"type":"resume","threadId":"t","lastSequence":9007199254740993}`,
		`{"type":"resume","mode":"auto","from":"earliest","lastOffsetsByPartition":"x","lastSequence":"5"}`,
		`{"type":"resume","lastOffsetsByPartition":{"-1":"5","x":1,"2":-3,"3":1.5,"007":"1","4":null},"mode":7,"from":{}}`,
		`{"type":"ping"}`,
		`{"type":"cursor_reset","adminToken":"tok"}`,
		`{"offset":"9223372036854775807","partition":2147483647,"type":"cursor"}`,
		`{"type":"cursor","partition":"0","offset":9223372036854775808}`,
		`{"type":"gap","count":3,"severity":"warning","message":"m","partition":1,"fromOffset":"1","toOffset":"3"}`,
		`{"type":"gap","count":1,"threadId":"t","fromSequence":"18446744073709551615","toSequence":"18446744073709551615"}`,
		`{"type":"cursor_stale","partition":0,"requested":"5","oldest":"10","message":"m"}`,
		`{"capped":false,"lastOffsetsByPartition":{"0":"47"},"mode":"cursor","totalReplayed":5,"type":"replay_complete"}`,
		`{"mode":"thread","totalReplayed":3,"type":"replay_complete","capped":true}`,
		`{"type":"disconnect","reason":"backpressure","lag_in_window":1000,"threshold":1000,"window_secs":60,"message":"m"}`,
		`{"type":"error","code":"REPLAY_TIMEOUT","message":"m"}`,
		`{"type":"pong"}`,
		`{"type":"cursor_reset_complete","latestOffsetsByPartition":{"0":"9"},"bufferCleared":true,"truncated":false,"totalPartitions":1,"message":"m"}`,
		// Hostile input.
		``, `{`, `}`, `[]`, `null`, `"type"`, `{"type":"`, `{"type":"ping"`, `{"type":null}`, `{"type":"nope"}`,
		`{"type":"ping"}garbage`, `{"type":"ping","type":"pong"}`, `{"typ\u0065":"p\u006eng"}`,
		"{\"type\":\"error\",\"code\":\"\xff\"}", `{"type":"error","code":"\ud800","message":"\udc00\u0000"}`,
		`{"type":"error","code":"日本","message":"🎉\u2028"}`,
		`{"type":"ping","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
		`{"type":"cursor","partition":1e3,"offset":"1.0"}`, `{"type":"cursor","partition":-0,"offset":" 5"}`,
		`{"type":"cursor","partition":0,"offset":99999999999999999999999999999999999}`,
		`{"type":"resume","lastOffsetsByPartition":{"0":"1","0":"x"},"lastSequencesByThread":{"\"":"1","\\":2}}`,
		`{"type":"gap","count":1,"fromOffset":"5"}`, `{"type":"gap","count":1,"fromOffset":"6","toOffset":"5"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := Parse(frame)
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned both a message and an error")
			}
			if !isParseError(err) {
				t.Fatalf("unexpected error kind %T: %v", err, err)
			}
			return
		}
		out := m.AppendJSON(nil)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("AppendJSON wrote invalid JSON %q for %#v", out, m)
		}
		if len(out) > MaxControlFrameBytes {
			return // numbers written as strings can grow a frame past the limit
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(AppendJSON(m)) failed: %v\n frame: %q\n   out: %s", err, frame, out)
		}
		if got, want := comparable(back), comparable(m); !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip changed the message\n frame: %q\n   out: %s\n   got: %#v\n  want: %#v", frame, out, got, want)
		}
		if r, ok := m.(*Resume); ok {
			for _, rej := range r.Rejected {
				var fe *FieldError
				if !errors.As(rej, &fe) || !strings.HasPrefix(rej.Error(), "control: ") {
					t.Fatalf("rejection %T %v is not a *FieldError", rej, rej)
				}
			}
		}
	})
}

// isParseError reports whether err is one of the documented error kinds of
// Parse.
func isParseError(err error) bool {
	var fe *FieldError
	var le *LimitError
	return errors.As(err, &fe) || errors.As(err, &le) || errors.Is(err, ErrInvalidJSON) ||
		errors.Is(err, ErrMissingType) || errors.Is(err, ErrUnknownType)
}
