package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// everyType holds one representative value of each of the eleven messages.
func everyType() []Message {
	return []Message{
		&Resume{Mode: ModePartition, From: FromCursor, HasOffsets: true,
			LastOffsetsByPartition: map[int32]int64{0: 42, 3: 7}},
		&Ping{},
		&CursorReset{},
		&Cursor{Partition: 0, Offset: 42},
		LiveLagGap(12),
		StaleCursor(2, 5, 10),
		&ReplayComplete{TotalReplayed: 5, LastOffsetsByPartition: map[int32]int64{0: 47}, Mode: FromCursor},
		BackpressureDisconnect(1000, 1000, 60),
		TooManyPartitionsError(1500),
		&Pong{},
		NewCursorResetComplete(map[int32]int64{0: 47, 1: 3}, true, 12),
	}
}

func TestParse_WireFormOfEveryType(t *testing.T) {
	tests := []struct {
		msg  Message
		want string
	}{
		{&Cursor{Partition: 0, Offset: 42}, `{"type":"cursor","partition":0,"offset":"42"}`},
		{&Ping{}, `{"type":"ping"}`},
		{&Pong{}, `{"type":"pong"}`},
		{&CursorReset{}, `{"type":"cursor_reset"}`},
		{&CursorReset{AdminToken: "s3cret"}, `{"type":"cursor_reset","adminToken":"s3cret"}`},
		{LiveLagGap(3), `{"type":"gap","count":3,"severity":"info","message":"[INFO] 3 messages missed due to slow connection"}`},
		{PartitionGap(1, 43, 45), `{"type":"gap","count":3,"severity":"warning","message":"Replay gap detected; some messages may be lost","partition":1,"fromOffset":"43","toOffset":"45"}`},
		{ThreadGap("t-1", 5, 5), `{"type":"gap","count":1,"severity":"warning","message":"Replay gap detected; some messages may be lost","threadId":"t-1","fromSequence":"5","toSequence":"5"}`},
		{StaleCursor(0, 5, 10), `{"type":"cursor_stale","partition":0,"requested":"5","oldest":"10","message":"Cursor is stale; data may have been evicted. State may be incomplete."}`},
		{&ReplayComplete{LastOffsetsByPartition: map[int32]int64{10: 1, 2: 99}, Mode: FromLatest},
			`{"type":"replay_complete","totalReplayed":0,"lastOffsetsByPartition":{"2":"99","10":"1"},"capped":false,"mode":"latest"}`},
		{&ReplayComplete{TotalReplayed: 10000, Capped: true, Mode: FromEarliest, Reason: "replay limit reached"},
			`{"type":"replay_complete","totalReplayed":10000,"lastOffsetsByPartition":{},"capped":true,"mode":"earliest","reason":"replay limit reached"}`},
		{&ReplayComplete{TotalReplayed: 4, Mode: ModeThread}, `{"type":"replay_complete","totalReplayed":4,"mode":"thread"}`},
		{&ReplayComplete{TotalReplayed: 50, LastOffsetsByPartition: map[int32]int64{0: 49}, Capped: true, Continuing: true, Mode: FromCursor},
			`{"type":"replay_complete","totalReplayed":50,"lastOffsetsByPartition":{"0":"49"},"capped":true,"mode":"cursor","continuing":true}`},
		{&ReplayComplete{TotalReplayed: 420, LastOffsetsByPartition: map[int32]int64{0: 99}, Mode: FromCursor, Live: true},
			`{"type":"replay_complete","totalReplayed":420,"lastOffsetsByPartition":{"0":"99"},"capped":false,"mode":"cursor","live":true}`},
		{CursorPastEnd(3, 1000000000, 0), `{"type":"cursor_stale","partition":3,"requested":"1000000000","oldest":"0","message":"` + CursorPastEnd(0, 0, 0).Message + `","reason":"past_end"}`},
		{UnknownPartitionsError([]int32{5, 6}), `{"type":"error","code":"RESUME_UNKNOWN_PARTITIONS","message":"resume names 2 partition(s) the topic does not have; ignored: 5, 6"}`},
		{BackpressureDisconnect(1200, 1000, 60), `{"type":"disconnect","reason":"backpressure","lag_in_window":1200,"cumulative_lag":1200,"threshold":1000,"window_secs":60,"message":"Disconnected due to slow consumption (1200 messages dropped within 60s window). Please reconnect using the resume protocol."}`},
		{ReplayTimeoutError(), `{"type":"error","code":"REPLAY_TIMEOUT","message":"Replay operation timed out due to slow connection"}`},
		{&CursorResetComplete{LatestOffsetsByPartition: map[int32]int64{0: 47}, BufferCleared: true, TotalPartitions: 1, Message: "ok"},
			`{"type":"cursor_reset_complete","latestOffsetsByPartition":{"0":"47"},"bufferCleared":true,"truncated":false,"totalPartitions":1,"message":"ok"}`},
		{NewPartitionResume(FromCursor, map[int32]int64{0: 42}),
			`{"type":"resume","mode":"partition","from":"cursor","lastOffsetsByPartition":{"0":"42"}}`},
		{&Resume{Mode: ModePartition, From: FromCursor, HasOffsets: true, LastOffsetsByPartition: map[int32]int64{0: 42}, Namespace: "v1_dG9waWM"},
			`{"type":"resume","mode":"partition","from":"cursor","lastOffsetsByPartition":{"0":"42"},"resume_namespace":"v1_dG9waWM"}`},
		{NewThreadResume(map[string]uint64{"b": 2, "a": 18446744073709551615}),
			`{"type":"resume","mode":"thread","from":"cursor","lastSequencesByThread":{"a":"18446744073709551615","b":"2"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.msg.Type(), func(t *testing.T) {
			if got := string(tt.msg.AppendJSON(nil)); got != tt.want {
				t.Errorf("AppendJSON\n got: %s\nwant: %s", got, tt.want)
			}
			roundTrip(t, tt.msg)
		})
	}
}

func TestParse_RoundTripsEveryType(t *testing.T) {
	maxOff, maxSeq, maxPart := int64(maxOffset), uint64(maxSequence), int32(maxPartition)
	msgs := append(everyType(),
		&Cursor{Partition: maxPart, Offset: maxOff},
		&Gap{Count: 0},
		&Gap{Count: maxOff, Severity: SeverityCritical, Message: "x", Partition: ptr(int32(0)), ThreadID: "t",
			FromOffset: ptr(int64(0)), ToOffset: ptr(maxOff), FromSequence: ptr(uint64(0)), ToSequence: ptr(maxSeq)},
		PartitionGap(maxPart, 0, maxOff),
		ThreadGap("", 0, maxSeq),
		&CursorStale{Partition: maxPart, Requested: maxOff, Oldest: 0},
		CursorOtherNamespace(0, 7, 7),
		&ReplayComplete{Capped: true, Continuing: true, Live: true},
		RateLimitedError(20000, 1500*time.Millisecond),
		&ReplayComplete{Mode: ModeThread, Capped: true, LastOffsetsByPartition: map[int32]int64{1: 1}},
		&ReplayComplete{},
		&CursorResetComplete{},
		&CursorResetComplete{Truncated: true, TotalPartitions: 1 << 40},
		&Disconnect{Reason: "shutdown", LagInWindow: 3, CumulativeLag: 9, Threshold: maxOff, WindowSecs: 0},
		&Disconnect{Reason: ""},
		&Error{Code: CodeInvalidControl},
		&CursorReset{AdminToken: "é\u2028\x00\"\\"},
		&Resume{Mode: ModeThread, From: FromLatest},
		&Resume{Mode: ModePartition, From: FromEarliest, HasOffsets: true},
		&Resume{Mode: ModeThread, From: FromCursor, HasSequences: true},
		&Resume{Mode: ModeThread, From: FromCursor, ThreadID: "legacy", LastSequence: ptr(uint64(MaxSafeInteger))},
		&Resume{Mode: ModePartition, From: FromCursor, HasOffsets: true,
			LastOffsetsByPartition: map[int32]int64{maxPart: maxOff, 0: 0},
			HasSequences:           true, LastSequencesByThread: map[string]uint64{"": 0, "日本": maxSeq},
			ThreadID: "t", LastSequence: ptr(uint64(0)), Namespace: "v2_\u00e9\"\x00"},
	)
	for _, m := range msgs {
		t.Run(m.Type(), func(t *testing.T) { roundTrip(t, m) })
	}
}

func TestParse_ReadsUpstreamFrames(t *testing.T) {
	// Frames as the upstream server writes them: keys in alphabetical order.
	tests := []struct {
		frame string
		want  Message
	}{
		{`{"offset":"42","partition":0,"type":"cursor"}`, &Cursor{Partition: 0, Offset: 42}},
		{`{"count":150,"message":"[CRITICAL] 150 messages missed due to slow connection","severity":"critical","type":"gap"}`,
			LiveLagGap(150)},
		{`{"count":3,"message":"Replay gap detected; some messages may be lost","partition":1,"severity":"warning","type":"gap"}`,
			&Gap{Count: 3, Severity: SeverityWarning, Message: ReplayGapMessage, Partition: ptr(int32(1))}},
		{`{"count":2,"message":"Replay gap detected; some messages may be lost","severity":"warning","threadId":"t","type":"gap"}`,
			&Gap{Count: 2, Severity: SeverityWarning, Message: ReplayGapMessage, ThreadID: "t"}},
		{`{"capped":false,"lastOffsetsByPartition":{},"mode":"latest","totalReplayed":0,"type":"replay_complete"}`,
			&ReplayComplete{Mode: FromLatest}},
		{`{"capped":false,"lastOffsetsByPartition":{"0":"47"},"mode":"cursor","totalReplayed":5,"type":"replay_complete"}`,
			&ReplayComplete{TotalReplayed: 5, LastOffsetsByPartition: map[int32]int64{0: 47}, Mode: FromCursor}},
		{`{"mode":"thread","totalReplayed":3,"type":"replay_complete"}`, &ReplayComplete{TotalReplayed: 3, Mode: ModeThread}},
		{`{"lag_in_window":1000,"message":"m","reason":"backpressure","threshold":1000,"type":"disconnect","window_secs":60}`,
			&Disconnect{Reason: "backpressure", LagInWindow: 1000, CumulativeLag: 1000, Threshold: 1000, WindowSecs: 60, Message: "m"}},
		{`{"code":"REPLAY_TIMEOUT","message":"Replay operation timed out due to slow connection","type":"error"}`, ReplayTimeoutError()},
		{`{"type":"pong"}`, &Pong{}},
		{`{"bufferCleared":true,"latestOffsetsByPartition":{"0":"9"},"message":"m","totalPartitions":1,"truncated":false,"type":"cursor_reset_complete"}`,
			&CursorResetComplete{LatestOffsetsByPartition: map[int32]int64{0: 9}, BufferCleared: true, TotalPartitions: 1, Message: "m"}},
		{`{"partition":0,"requested":"5","oldest":"10","message":"` + DefaultCursorStaleMessage + `","type":"cursor_stale"}`,
			StaleCursor(0, 5, 10)},
	}
	for _, tt := range tests {
		got := mustParse(t, tt.frame)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%s)\n got: %#v\nwant: %#v", tt.frame, got, tt.want)
		}
	}
}

func TestParse_RejectsUnreadableFrames(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  error
	}{
		{"empty", ``, ErrInvalidJSON},
		{"whitespace only", "  \n", ErrInvalidJSON},
		{"truncated object", `{"type":"cursor","partition":0,"offset":"4`, ErrInvalidJSON},
		{"truncated after colon", `{"type":`, ErrInvalidJSON},
		{"trailing garbage", `{"type":"ping"} x`, ErrInvalidJSON},
		{"two objects", `{"type":"ping"}{"type":"ping"}`, ErrInvalidJSON},
		{"single quotes", `{'type':'ping'}`, ErrInvalidJSON},
		{"trailing comma", `{"type":"ping",}`, ErrInvalidJSON},
		{"NaN", `{"type":"cursor","partition":NaN,"offset":"1"}`, ErrInvalidJSON},
		{"raw control char in string", "{\"type\":\"pi\nng\"}", ErrInvalidJSON},
		{"bad escape", `{"type":"p\xng"}`, ErrInvalidJSON},
		{"invalid UTF-8 in value", "{\"type\":\"error\",\"code\":\"a\xffb\"}", ErrInvalidJSON},
		{"invalid UTF-8 in key", "{\"type\":\"ping\",\"\xc3\":1}", ErrInvalidJSON},
		{"array", `[{"type":"ping"}]`, ErrInvalidJSON},
		{"string", `"ping"`, ErrInvalidJSON},
		{"number", `42`, ErrInvalidJSON},
		{"null", `null`, ErrInvalidJSON},
		{"no type", `{}`, ErrMissingType},
		{"type null", `{"type":null}`, ErrMissingType},
		{"type number", `{"type":1}`, ErrMissingType},
		{"type object", `{"type":{"type":"ping"}}`, ErrMissingType},
		{"type array", `{"type":["ping"]}`, ErrMissingType},
		{"nested type only", `{"x":{"type":"ping"}}`, ErrMissingType},
		{"unknown type", `{"type":"hello"}`, ErrUnknownType},
		{"empty type", `{"type":""}`, ErrUnknownType},
		{"type case differs", `{"type":"PING"}`, ErrUnknownType},
		{"type with space", `{"type":"ping "}`, ErrUnknownType},
		{"upstream non-type backpressure", `{"type":"backpressure"}`, ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.frame))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) = %v, %v; want error %v", tt.frame, m, err, tt.want)
			}
			if m != nil {
				t.Errorf("Parse returned a message with an error: %#v", m)
			}
		})
	}
}

func TestParse_UnknownTypeErrorNamesTheType(t *testing.T) {
	_, err := Parse([]byte(`{"type":"subscribed"}`))
	if err == nil || !strings.Contains(err.Error(), `"subscribed"`) {
		t.Fatalf("error %v does not name the type", err)
	}
	long := strings.Repeat("x", 5000)
	_, err = Parse([]byte(`{"type":"` + long + `"}`))
	if !errors.Is(err, ErrUnknownType) || len(err.Error()) > 200 {
		t.Fatalf("error for a long type is not short: %d bytes", len(err.Error()))
	}
}

func TestParse_RejectsFrameLargerThan1MiBBeforeParsing(t *testing.T) {
	// Garbage: an error other than ErrFrameTooLarge would show that parsing
	// happened.
	big := bytes.Repeat([]byte{'{'}, MaxControlFrameBytes+1)
	_, err := Parse(big)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Parse(1 MiB + 1) = %v, want ErrFrameTooLarge", err)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Count != MaxControlFrameBytes+1 || le.Limit != MaxControlFrameBytes {
		t.Fatalf("error %#v lacks the sizes", err)
	}
	if e := ErrorFor(err); e.Code != CodeControlFrameTooLarge ||
		e.Message != "Control message (1048577 bytes) exceeds maximum (1048576 bytes)" {
		t.Fatalf("ErrorFor = %#v", e)
	}

	// A valid frame of exactly 1 MiB is accepted.
	head := []byte(`{"type":"ping","pad":"`)
	exact := append(head, bytes.Repeat([]byte{'a'}, MaxControlFrameBytes-len(head)-2)...)
	exact = append(exact, '"', '}')
	if len(exact) != MaxControlFrameBytes {
		t.Fatalf("test frame is %d bytes", len(exact))
	}
	if _, err := Parse(exact); err != nil {
		t.Fatalf("Parse(exactly 1 MiB) = %v", err)
	}
}

func TestParse_RejectsDeeplyNestedJSON(t *testing.T) {
	tests := map[string]string{
		"deep arrays in member": `{"type":"ping","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		"deep objects":          strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200),
		"1 MiB of brackets":     strings.Repeat("[", MaxControlFrameBytes),
		"unbalanced deep":       `{"type":"ping","x":` + strings.Repeat("[{", 100000),
	}
	for name, frame := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(frame))
			if !errors.Is(err, ErrInvalidJSON) || !strings.Contains(err.Error(), "nested") {
				t.Fatalf("Parse = %v, want a nesting error", err)
			}
		})
	}
}

func TestParse_AcceptsNestingUpToTheLimit(t *testing.T) {
	inner := MaxNestingDepth - 1 // the top-level object is level 1
	frame := `{"type":"ping","x":` + strings.Repeat("[", inner) + strings.Repeat("]", inner) + `}`
	if _, err := Parse([]byte(frame)); err != nil {
		t.Fatalf("Parse at depth %d: %v", MaxNestingDepth, err)
	}
	// Brackets inside strings, including after escaped quotes, do not count.
	frame = `{"type":"ping","x":"` + strings.Repeat(`[\"{`, 1000) + `"}`
	if _, err := Parse([]byte(frame)); err != nil {
		t.Fatalf("Parse with brackets in a string: %v", err)
	}
}

func TestParse_MissingRequiredFieldsNameTheField(t *testing.T) {
	tests := []struct {
		frame, field string
	}{
		{`{"type":"cursor","offset":"1"}`, "partition"},
		{`{"type":"cursor","partition":1}`, "offset"},
		{`{"type":"gap","severity":"info"}`, "count"},
		{`{"type":"cursor_stale","requested":"1","oldest":"2"}`, "partition"},
		{`{"type":"cursor_stale","partition":1,"oldest":"2"}`, "requested"},
		{`{"type":"cursor_stale","partition":1,"requested":"2"}`, "oldest"},
		{`{"type":"replay_complete","mode":"cursor"}`, "totalReplayed"},
		{`{"type":"disconnect","lag_in_window":1}`, "reason"},
		{`{"type":"error","message":"m"}`, "code"},
		{`{"type":"cursor_reset_complete","bufferCleared":true}`, "latestOffsetsByPartition"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.frame))
		fe := fieldErrorOf(t, err)
		if fe.Field != tt.field || !errors.Is(err, ErrMissingField) {
			t.Errorf("Parse(%s) = %v; want missing %q", tt.frame, err, tt.field)
		}
		if want := `control: field "` + tt.field + `": missing required field`; err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
	}
}

// fieldKind is the JSON kind a member expects.
type fieldKind int

const (
	kindInt fieldKind = iota
	kindString
	kindBool
	kindOffsetMap
)

// wrongValues lists values of the wrong JSON type for each kind.
var wrongValues = map[fieldKind][]string{
	kindInt:       {`true`, `false`, `null`, `{}`, `[]`, `[1]`, `{"a":1}`, `"abc"`, `1.5`, `-1`},
	kindString:    {`1`, `true`, `null`, `{}`, `[]`, `["x"]`},
	kindBool:      {`1`, `"true"`, `null`, `{}`, `[]`, `0`},
	kindOffsetMap: {`1`, `"x"`, `true`, `null`, `[]`, `["1"]`, `{"0":true}`, `{"x":"1"}`, `{"0":"-1"}`},
}

func TestParse_WrongTypeForEveryFieldNamesTheField(t *testing.T) {
	type member struct {
		name string
		kind fieldKind
	}
	schemas := map[string][]member{
		TypeCursor:      {{"partition", kindInt}, {"offset", kindInt}},
		TypeGap:         {{"count", kindInt}, {"severity", kindString}, {"message", kindString}, {"partition", kindInt}, {"threadId", kindString}, {"fromOffset", kindInt}, {"toOffset", kindInt}, {"fromSequence", kindInt}, {"toSequence", kindInt}},
		TypeCursorStale: {{"partition", kindInt}, {"requested", kindInt}, {"oldest", kindInt}, {"message", kindString}, {"reason", kindString}},
		TypeReplayComplete: {{"totalReplayed", kindInt}, {"lastOffsetsByPartition", kindOffsetMap},
			{"capped", kindBool}, {"mode", kindString}, {"reason", kindString}, {"continuing", kindBool}, {"live", kindBool}},
		TypeDisconnect: {{"reason", kindString}, {"lag_in_window", kindInt}, {"cumulative_lag", kindInt},
			{"threshold", kindInt}, {"window_secs", kindInt}, {"message", kindString}},
		TypeError:       {{"code", kindString}, {"message", kindString}},
		TypeCursorReset: {{"adminToken", kindString}},
		TypeCursorResetComplete: {{"latestOffsetsByPartition", kindOffsetMap}, {"bufferCleared", kindBool},
			{"truncated", kindBool}, {"totalPartitions", kindInt}, {"message", kindString}},
	}
	valid := map[fieldKind]string{kindInt: `"1"`, kindString: `"s"`, kindBool: `true`, kindOffsetMap: `{"0":"1"}`}
	for typ, members := range schemas {
		for i, bad := range members {
			for _, wrong := range wrongValues[bad.kind] {
				var b strings.Builder
				b.WriteString(`{"type":"` + typ + `"`)
				for j, m := range members {
					v := valid[m.kind]
					if j == i {
						v = wrong
					}
					b.WriteString(`,"` + m.name + `":` + v)
				}
				b.WriteString(`}`)
				frame := b.String()
				m, err := Parse([]byte(frame))
				if err == nil {
					t.Errorf("Parse(%s) = %#v, want an error for %q", frame, m, bad.name)
					continue
				}
				fe := fieldErrorOf(t, err)
				if fe.Field != bad.name {
					t.Errorf("Parse(%s) blamed %q, want %q (%v)", frame, fe.Field, bad.name, err)
				}
				if !strings.Contains(err.Error(), bad.name) {
					t.Errorf("message %q does not name %q", err, bad.name)
				}
			}
		}
	}
}

func TestParse_WrongTypeForEveryResumeFieldIsRejectedNotFatal(t *testing.T) {
	tests := []struct {
		member string
		values []string
	}{
		{"mode", []string{`1`, `true`, `null`, `{}`, `[]`, `"bogus"`, `"PARTITION"`}},
		{"from", []string{`1`, `true`, `null`, `{}`, `[]`, `"now"`, `""`}},
		{"lastOffsetsByPartition", []string{`1`, `"x"`, `true`, `null`, `[]`, `["1"]`}},
		{"lastSequencesByThread", []string{`1`, `"x"`, `true`, `null`, `[]`}},
		{"threadId", []string{`1`, `true`, `null`, `{}`, `[]`}},
		{"lastSequence", []string{`true`, `null`, `{}`, `[]`, `"abc"`, `-1`, `1.5`, `18446744073709551616`}},
		{"resume_namespace", []string{`1`, `true`, `null`, `{}`, `[]`, `["v1_x"]`}},
	}
	for _, tt := range tests {
		for _, v := range tt.values {
			frame := `{"type":"resume","` + tt.member + `":` + v + `}`
			r, err := ParseResume([]byte(frame))
			if err != nil {
				t.Errorf("ParseResume(%s) failed: %v", frame, err)
				continue
			}
			if len(r.Rejected) != 1 {
				t.Errorf("ParseResume(%s).Rejected = %v, want one entry", frame, r.Rejected)
				continue
			}
			if fe := fieldErrorOf(t, r.Rejected[0]); fe.Field != tt.member {
				t.Errorf("ParseResume(%s) rejected %q, want %q", frame, fe.Field, tt.member)
			}
		}
	}
}

func TestParse_UnknownMembersAreIgnored(t *testing.T) {
	m := mustParse(t, `{"x":{"deep":[1,2,{"y":null}]},"type":"cursor","partition":1,"offset":2,"extra":"e"}`)
	if !reflect.DeepEqual(m, &Cursor{Partition: 1, Offset: 2}) {
		t.Fatalf("got %#v", m)
	}
}

func TestParse_LastDuplicateMemberWins(t *testing.T) {
	m := mustParse(t, `{"type":"ping","type":"cursor","partition":1,"offset":"5","offset":"6"}`)
	if !reflect.DeepEqual(m, &Cursor{Partition: 1, Offset: 6}) {
		t.Fatalf("got %#v", m)
	}
}

func TestParse_EscapedKeysAndTypesAreUnescaped(t *testing.T) {
	m := mustParse(t, `{"typ\u0065":"curs\u006fr","partition":1,"\u006fffset":"\u0035"}`)
	if !reflect.DeepEqual(m, &Cursor{Partition: 1, Offset: 5}) {
		t.Fatalf("got %#v", m)
	}
}

func TestParse_NonASCIIStringsRoundTrip(t *testing.T) {
	for _, s := range []string{"日本語", "emoji 🎉", "\u2028\u2029", "mixed \"quotes\" and \\ and \t", "\x00\x01\x1f\x7f"} {
		m := &Error{Code: CodeInvalidControl, Message: s}
		roundTrip(t, m)
		g := &Gap{Count: 1, ThreadID: s}
		roundTrip(t, g)
		r := NewThreadResume(map[string]uint64{s: 1})
		roundTrip(t, r)
	}
	// Escaped forms in the frame are decoded.
	m := mustParse(t, `{"type":"error","code":"C","message":"\u65e5\ud83c\udf89\n\/"}`)
	if got := m.(*Error).Message; got != "日🎉\n/" {
		t.Fatalf("message %q", got)
	}
}

func TestParse_EscapedLoneSurrogateBecomesReplacementChar(t *testing.T) {
	m := mustParse(t, `{"type":"error","code":"\ud800x","message":"\udc00"}`)
	e := m.(*Error)
	if e.Code != "\uFFFDx" || e.Message != "\uFFFD" {
		t.Fatalf("got %#v", e)
	}
	roundTrip(t, e)
}

func TestParse_DoesNotAliasInputBuffer(t *testing.T) {
	frame := []byte(`{"type":"resume","lastSequencesByThread":{"thread-a":"1"},"threadId":"legacy","from":"latest","mode":"thread"}`)
	m := mustParse(t, string(frame)) // a copy for the reference
	r, err := ParseResume(frame)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frame {
		frame[i] = 'X'
	}
	if !reflect.DeepEqual(r, m) {
		t.Fatalf("message changed with its input buffer: %#v", r)
	}
	frame = []byte(`{"type":"error","code":"CODE","message":"text"}`)
	e, err := ParseAs[*Error](frame)
	if err != nil {
		t.Fatal(err)
	}
	copy(frame, bytes.Repeat([]byte{'Y'}, len(frame)))
	if e.Code != "CODE" || e.Message != "text" {
		t.Fatalf("message changed with its input buffer: %#v", e)
	}
}

func TestParse_OffsetRoundTripsMaxInt64(t *testing.T) {
	for _, frame := range []string{
		`{"type":"cursor","partition":2147483647,"offset":"9223372036854775807"}`,
		`{"type":"cursor","partition":"2147483647","offset":9223372036854775807}`,
	} {
		m := mustParse(t, frame)
		want := &Cursor{Partition: 2147483647, Offset: 9223372036854775807}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("Parse(%s) = %#v", frame, m)
		}
		out := roundTrip(t, m)
		if string(out) != `{"type":"cursor","partition":2147483647,"offset":"9223372036854775807"}` {
			t.Fatalf("AppendJSON = %s", out)
		}
	}
	for _, frame := range []string{
		`{"type":"cursor","partition":0,"offset":"9223372036854775808"}`,
		`{"type":"cursor","partition":0,"offset":9223372036854775808}`,
	} {
		_, err := Parse([]byte(frame))
		if !errors.Is(err, ErrOutOfRange) || !strings.Contains(err.Error(), "max 9223372036854775807") {
			t.Fatalf("Parse(%s) = %v, want out of range with the max", frame, err)
		}
	}
}

func TestParse_SequenceRoundTripsMaxUint64(t *testing.T) {
	for _, v := range []string{`"18446744073709551615"`, `18446744073709551615`} {
		frame := `{"type":"gap","count":1,"threadId":"t","fromSequence":` + v + `,"toSequence":` + v + `}`
		g := mustParse(t, frame).(*Gap)
		if *g.FromSequence != 18446744073709551615 || *g.ToSequence != 18446744073709551615 {
			t.Fatalf("Parse(%s) = %#v", frame, g)
		}
		roundTrip(t, g)

		r, err := ParseResume([]byte(`{"type":"resume","lastSequencesByThread":{"t":` + v + `}}`))
		if err != nil || len(r.Rejected) != 0 || r.LastSequencesByThread["t"] != 18446744073709551615 {
			t.Fatalf("ParseResume = %#v, %v", r, err)
		}
		roundTrip(t, r)
	}
	_, err := Parse([]byte(`{"type":"gap","count":1,"fromSequence":"18446744073709551616","toSequence":"1"}`))
	if fe := fieldErrorOf(t, err); fe.Field != "fromSequence" || !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("got %v", err)
	}
}

func TestParse_PartitionAbove2147483647IsOutOfRange(t *testing.T) {
	_, err := Parse([]byte(`{"type":"cursor","partition":2147483648,"offset":"1"}`))
	if !errors.Is(err, ErrOutOfRange) || !strings.Contains(err.Error(), "max 2147483647") {
		t.Fatalf("got %v", err)
	}
}

func TestParse_GapRangesMustBeCompleteAndOrdered(t *testing.T) {
	tests := []struct {
		members, field string
	}{
		{`"fromOffset":"5"`, "fromOffset"},
		{`"toOffset":"5"`, "toOffset"},
		{`"fromOffset":"6","toOffset":"5"`, "fromOffset"},
		{`"fromSequence":"1"`, "fromSequence"},
		{`"toSequence":"1"`, "toSequence"},
		{`"fromSequence":"2","toSequence":"1"`, "fromSequence"},
	}
	for _, tt := range tests {
		frame := `{"type":"gap","count":1,` + tt.members + `}`
		_, err := Parse([]byte(frame))
		if fe := fieldErrorOf(t, err); fe.Field != tt.field || !errors.Is(err, ErrInconsistent) {
			t.Errorf("Parse(%s) = %v, want inconsistent %q", frame, err, tt.field)
		}
	}
	g := mustParse(t, `{"type":"gap","count":1,"fromOffset":"5","toOffset":"5"}`).(*Gap)
	if *g.FromOffset != 5 || *g.ToOffset != 5 {
		t.Fatalf("got %#v", g)
	}
}

func TestParse_DisconnectFillsTheMissingLagMember(t *testing.T) {
	d := mustParse(t, `{"type":"disconnect","reason":"r","cumulative_lag":7}`).(*Disconnect)
	if d.LagInWindow != 7 || d.CumulativeLag != 7 {
		t.Fatalf("got %#v", d)
	}
	d = mustParse(t, `{"type":"disconnect","reason":"r","lag_in_window":7,"cumulative_lag":9}`).(*Disconnect)
	if d.LagInWindow != 7 || d.CumulativeLag != 9 {
		t.Fatalf("got %#v", d)
	}
}

func TestParse_EmptyOffsetMapsParseAsNil(t *testing.T) {
	rc := mustParse(t, `{"type":"replay_complete","totalReplayed":0,"lastOffsetsByPartition":{},"mode":"latest"}`).(*ReplayComplete)
	if rc.LastOffsetsByPartition != nil {
		t.Fatalf("got %#v", rc.LastOffsetsByPartition)
	}
	cr := mustParse(t, `{"type":"cursor_reset_complete","latestOffsetsByPartition":{}}`).(*CursorResetComplete)
	if cr.LatestOffsetsByPartition != nil {
		t.Fatalf("got %#v", cr.LatestOffsetsByPartition)
	}
}

func TestParse_InvalidMapEntryOfServerMessageNamesTheEntry(t *testing.T) {
	_, err := Parse([]byte(`{"type":"replay_complete","totalReplayed":1,"lastOffsetsByPartition":{"0":"1","3":1.5}}`))
	if want := `control: lastOffsetsByPartition["3"]: fraction 1.5 is not an integer`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	_, err = Parse([]byte(`{"type":"cursor_reset_complete","latestOffsetsByPartition":{"p":"1"}}`))
	fe := fieldErrorOf(t, err)
	if !fe.HasKey || fe.Key != "p" || fe.Field != "latestOffsetsByPartition" || !errors.Is(err, ErrMalformedNumber) {
		t.Fatalf("got %#v", fe)
	}
}

func TestParseAs_RejectsOtherTypes(t *testing.T) {
	_, err := ParseAs[*Cursor]([]byte(`{"type":"ping"}`))
	if !errors.Is(err, ErrUnexpectedType) || !strings.Contains(err.Error(), `"ping"`) {
		t.Fatalf("got %v", err)
	}
	_, err = ParseResume([]byte(`{"type":"cursor","partition":0,"offset":"1"}`))
	if !errors.Is(err, ErrUnexpectedType) {
		t.Fatalf("got %v", err)
	}
	c, err := ParseAs[*Cursor]([]byte(`{"type":"cursor","partition":0,"offset":"1"}`))
	if err != nil || c.Offset != 1 {
		t.Fatalf("got %#v, %v", c, err)
	}
	m, err := ParseAs[Message]([]byte(`{"type":"pong"}`))
	if err != nil || m.Type() != TypePong {
		t.Fatalf("got %#v, %v", m, err)
	}
	if _, err := ParseResume([]byte(`nope`)); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("got %v", err)
	}
}

func TestMarshalJSON_MatchesAppendJSON(t *testing.T) {
	for _, m := range everyType() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			t.Fatalf("json.Marshal(%T): %v", m, err)
		}
		// encoding/json compacts but does not reorder Marshaler output.
		got := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if want := m.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("json.Marshal(%T) = %s, want %s", m, got, want)
		}
	}
}

func TestAppendJSON_AppendsToExistingBuffer(t *testing.T) {
	for _, m := range everyType() {
		prefix := []byte("prefix:")
		out := m.AppendJSON(prefix)
		if !bytes.HasPrefix(out, []byte("prefix:")) || !bytes.Equal(out[len("prefix:"):], m.AppendJSON(nil)) {
			t.Errorf("%T: AppendJSON(prefix) = %q", m, out)
		}
	}
}

func TestAppendJSON_IsDeterministic(t *testing.T) {
	big := map[int32]int64{}
	seqs := map[string]uint64{}
	for i := range 200 {
		big[int32(i*7919%1000)] = int64(i)
		seqs[strings.Repeat("t", i%5)+string(rune('a'+i%26))] = uint64(i)
	}
	msgs := []Message{
		&ReplayComplete{LastOffsetsByPartition: big, Mode: FromCursor},
		&CursorResetComplete{LatestOffsetsByPartition: big},
		&Resume{Mode: ModePartition, HasOffsets: true, LastOffsetsByPartition: big, LastSequencesByThread: seqs},
	}
	for _, m := range msgs {
		first := m.AppendJSON(nil)
		for range 20 {
			if again := m.AppendJSON(nil); !bytes.Equal(first, again) {
				t.Fatalf("%T: output differs between calls", m)
			}
		}
	}
}

func TestTypeConstantsMatchMessages(t *testing.T) {
	want := []string{TypeResume, TypePing, TypeCursorReset, TypeCursor, TypeGap, TypeCursorStale,
		TypeReplayComplete, TypeDisconnect, TypeError, TypePong, TypeCursorResetComplete}
	seen := map[string]bool{}
	for i, m := range everyType() {
		if m.Type() != want[i] {
			t.Errorf("%T.Type() = %q, want %q", m, m.Type(), want[i])
		}
		seen[m.Type()] = true
		var head struct{ Type string }
		if err := json.Unmarshal(m.AppendJSON(nil), &head); err != nil || head.Type != m.Type() {
			t.Errorf("%T wrote type %q (%v)", m, head.Type, err)
		}
	}
	if len(seen) != 11 {
		t.Fatalf("%d distinct types, want 11", len(seen))
	}
}
