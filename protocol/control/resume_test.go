package control

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestResume_ModeResolution(t *testing.T) {
	tests := []struct {
		members  string
		want     string
		rejected int
	}{
		{``, ModeThread, 0},
		{`"lastOffsetsByPartition":{}`, ModePartition, 0},
		{`"lastOffsetsByPartition":null`, ModePartition, 1},  // present at all
		{`"lastOffsetsByPartition":"x"`, ModePartition, 1},   // present at all
		{`"lastSequencesByThread":{"t":"1"}`, ModeThread, 0}, // no offsets key
		{`"mode":"auto","lastOffsetsByPartition":{}`, ModePartition, 0},
		{`"mode":"auto"`, ModeThread, 0},
		{`"mode":"partition"`, ModePartition, 0},
		{`"mode":"thread","lastOffsetsByPartition":{"0":"1"}`, ModeThread, 0},
		{`"mode":"sideways","lastOffsetsByPartition":{}`, ModePartition, 1},
		{`"mode":"sideways"`, ModeThread, 1},
		{`"mode":7`, ModeThread, 1},
	}
	for _, tt := range tests {
		frame := `{"type":"resume"`
		if tt.members != "" {
			frame += "," + tt.members
		}
		frame += "}"
		r, err := ParseResume([]byte(frame))
		if err != nil {
			t.Fatalf("ParseResume(%s): %v", frame, err)
		}
		if r.Mode != tt.want || len(r.Rejected) != tt.rejected {
			t.Errorf("ParseResume(%s): mode %q, rejected %v; want %q and %d rejections", frame, r.Mode, r.Rejected, tt.want, tt.rejected)
		}
	}
}

func TestResume_FromResolution(t *testing.T) {
	tests := []struct {
		member   string
		want     string
		rejected bool
	}{
		{``, FromCursor, false},
		{`,"from":"cursor"`, FromCursor, false},
		{`,"from":"earliest"`, FromEarliest, false},
		{`,"from":"latest"`, FromLatest, false},
		{`,"from":"Latest"`, FromCursor, true},
		{`,"from":"beginning"`, FromCursor, true},
		{`,"from":1`, FromCursor, true},
		{`,"from":null`, FromCursor, true},
	}
	for _, tt := range tests {
		frame := `{"type":"resume","lastOffsetsByPartition":{}` + tt.member + `}`
		r, err := ParseResume([]byte(frame))
		if err != nil {
			t.Fatal(err)
		}
		if r.From != tt.want || (len(r.Rejected) > 0) != tt.rejected {
			t.Errorf("ParseResume(%s): from %q, rejected %v", frame, r.From, r.Rejected)
		}
		if tt.rejected {
			if fe := fieldErrorOf(t, r.Rejected[0]); fe.Field != "from" {
				t.Errorf("rejection names %q", fe.Field)
			}
		}
	}
}

func TestResume_InvalidEntriesRejectedIndividually(t *testing.T) {
	frame := `{"type":"resume","from":"cursor","lastOffsetsByPartition":{
		"0":"42", "1":7, "-1":"5", "x":"5", "2":"-3", "3":1.5, "4":true, "5":null, "007":"1",
		"2147483648":"1", "6":"9223372036854775808", "7":{}, "8":"0", "":"1"
	},"lastSequencesByThread":{"a":"1","b":0,"c":"x","d":-1,"日本":"18446744073709551615","e":[],"":"5"}}`
	r, err := ParseResume([]byte(frame))
	if err != nil {
		t.Fatal(err)
	}
	wantOffsets := map[int32]int64{0: 42, 1: 7, 8: 0}
	if !reflect.DeepEqual(r.LastOffsetsByPartition, wantOffsets) {
		t.Errorf("offsets %v, want %v", r.LastOffsetsByPartition, wantOffsets)
	}
	wantSeqs := map[string]uint64{"a": 1, "b": 0, "日本": 18446744073709551615, "": 5}
	if !reflect.DeepEqual(r.LastSequencesByThread, wantSeqs) {
		t.Errorf("sequences %v, want %v", r.LastSequencesByThread, wantSeqs)
	}
	wantRejected := []struct {
		path  string
		class error
	}{
		{`lastOffsetsByPartition["-1"]`, ErrNegative},
		{`lastOffsetsByPartition["x"]`, ErrMalformedNumber},
		{`lastOffsetsByPartition["2"]`, ErrNegative},
		{`lastOffsetsByPartition["3"]`, ErrNotInteger},
		{`lastOffsetsByPartition["4"]`, ErrWrongType},
		{`lastOffsetsByPartition["5"]`, ErrWrongType},
		{`lastOffsetsByPartition["007"]`, ErrMalformedNumber},
		{`lastOffsetsByPartition["2147483648"]`, ErrOutOfRange},
		{`lastOffsetsByPartition["6"]`, ErrOutOfRange},
		{`lastOffsetsByPartition["7"]`, ErrWrongType},
		{`lastOffsetsByPartition[""]`, ErrMalformedNumber},
		{`lastSequencesByThread["c"]`, ErrMalformedNumber},
		{`lastSequencesByThread["d"]`, ErrNegative},
		{`lastSequencesByThread["e"]`, ErrWrongType},
	}
	if len(r.Rejected) != len(wantRejected) {
		t.Fatalf("rejected %d entries, want %d: %v", len(r.Rejected), len(wantRejected), r.Rejected)
	}
	for i, w := range wantRejected {
		fe := fieldErrorOf(t, r.Rejected[i])
		if fe.Path() != w.path || !errors.Is(fe, w.class) || !strings.HasPrefix(fe.Error(), "control: "+w.path+": ") {
			t.Errorf("rejection %d = %v (%v), want %s (%v)", i, fe, fe.Err, w.path, w.class)
		}
	}
	if r.Mode != ModePartition || r.From != FromCursor {
		t.Errorf("mode %q from %q", r.Mode, r.From)
	}
}

func TestResume_NonObjectOffsetsIsRejectedButSelectsPartitionMode(t *testing.T) {
	r, err := ParseResume([]byte(`{"type":"resume","lastOffsetsByPartition":["0"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasOffsets || r.Mode != ModePartition || r.LastOffsetsByPartition != nil || len(r.Rejected) != 1 {
		t.Fatalf("got %#v", r)
	}
	if fe := fieldErrorOf(t, r.Rejected[0]); fe.Field != "lastOffsetsByPartition" || !errors.Is(fe, ErrWrongType) {
		t.Fatalf("rejection %v", fe)
	}
}

// objectWithKeys returns a JSON object with n keys produced by key(i) and
// the value v.
func objectWithKeys(n int, key func(int) string, v string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + key(i) + `":` + v)
	}
	b.WriteByte('}')
	return b.String()
}

func TestResume_TooManyPartitionsCountsRawKeys(t *testing.T) {
	tests := []struct {
		name    string
		keys    int
		key     func(int) string
		wantErr bool
	}{
		{"1024 valid keys pass", MaxResumePartitions, strconv.Itoa, false},
		{"1025 valid keys fail", MaxResumePartitions + 1, strconv.Itoa, true},
		{"1025 invalid keys fail", MaxResumePartitions + 1, func(i int) string { return "-" + strconv.Itoa(i+1) }, true},
		{"1025 repeated keys fail", MaxResumePartitions + 1, func(int) string { return "0" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := `{"type":"resume","lastOffsetsByPartition":` + objectWithKeys(tt.keys, tt.key, `"1"`) + `}`
			r, err := ParseResume([]byte(frame))
			if !tt.wantErr {
				if err != nil || len(r.LastOffsetsByPartition) != tt.keys {
					t.Fatalf("got %d offsets, %v", len(r.LastOffsetsByPartition), err)
				}
				return
			}
			var le *LimitError
			if !errors.Is(err, ErrTooManyPartitions) || !errors.As(err, &le) || le.Count != tt.keys || le.Limit != MaxResumePartitions {
				t.Fatalf("got %v, want ErrTooManyPartitions with count %d", err, tt.keys)
			}
			if e := ErrorFor(err); e.Code != CodeResumeTooManyPartitions ||
				e.Message != "Too many partitions in resume request: 1025 > 1024" {
				t.Fatalf("ErrorFor = %#v", e)
			}
		})
	}
}

func TestResume_TooManyThreadsCountsRawKeys(t *testing.T) {
	key := func(i int) string { return "t" + strconv.Itoa(i) }
	frame := `{"type":"resume","lastSequencesByThread":` + objectWithKeys(MaxResumeThreads, key, `"1"`) + `}`
	r, err := ParseResume([]byte(frame))
	if err != nil || len(r.LastSequencesByThread) != MaxResumeThreads {
		t.Fatalf("10000 threads: %v", err)
	}
	frame = `{"type":"resume","lastSequencesByThread":` + objectWithKeys(MaxResumeThreads+1, key, `true`) + `}`
	_, err = ParseResume([]byte(frame))
	if !errors.Is(err, ErrTooManyThreads) {
		t.Fatalf("10001 invalid threads: %v", err)
	}
	if e := ErrorFor(err); e.Code != CodeResumeTooManyThreads ||
		e.Message != "Too many threads in resume request: 10001 > 10000" {
		t.Fatalf("ErrorFor = %#v", e)
	}
}

func TestResume_OversizedMapOfOtherModeIsIgnored(t *testing.T) {
	threads := objectWithKeys(MaxResumeThreads+1, func(i int) string { return "t" + strconv.Itoa(i) }, `1`)
	r, err := ParseResume([]byte(`{"type":"resume","lastOffsetsByPartition":{"0":"1"},"lastSequencesByThread":` + threads + `}`))
	if err != nil {
		t.Fatalf("partition mode with too many threads: %v", err)
	}
	if r.Mode != ModePartition || !r.HasSequences || r.LastSequencesByThread != nil || len(r.Rejected) != 1 ||
		!errors.Is(r.Rejected[0], ErrTooManyThreads) || r.LastOffsetsByPartition[0] != 1 {
		t.Fatalf("got %#v", r)
	}

	parts := objectWithKeys(MaxResumePartitions+1, strconv.Itoa, `1`)
	r, err = ParseResume([]byte(`{"type":"resume","mode":"thread","lastOffsetsByPartition":` + parts + `}`))
	if err != nil {
		t.Fatalf("thread mode with too many partitions: %v", err)
	}
	if r.Mode != ModeThread || !r.HasOffsets || r.LastOffsetsByPartition != nil || len(r.Rejected) != 1 ||
		!errors.Is(r.Rejected[0], ErrTooManyPartitions) {
		t.Fatalf("got %#v", r)
	}
}

func TestResume_LegacyThreadCursor(t *testing.T) {
	tests := []struct {
		members string
		want    map[string]uint64
	}{
		{`"threadId":"t","lastSequence":5`, map[string]uint64{"t": 5}},
		{`"threadId":"t","lastSequence":"0"`, map[string]uint64{"t": 0}},
		{`"threadId":"t","lastSequence":"18446744073709551615"`, map[string]uint64{"t": 18446744073709551615}},
		{`"lastSequence":5`, nil},                 // scalar without threadId is ignored
		{`"threadId":"t"`, nil},                   // no sequence
		{`"threadId":"t","lastSequence":-1`, nil}, // invalid sequence
		{`"threadId":"t","lastSequence":5,"lastSequencesByThread":{"u":1}`, map[string]uint64{"u": 1}},
		{`"threadId":"t","lastSequence":5,"lastSequencesByThread":{}`, nil},                        // an object wins, even empty
		{`"threadId":"t","lastSequence":5,"lastSequencesByThread":"x"`, map[string]uint64{"t": 5}}, // not an object
		{`"threadId":"t","lastSequence":5,"lastSequencesByThread":null`, map[string]uint64{"t": 5}},
	}
	for _, tt := range tests {
		frame := `{"type":"resume",` + tt.members + `}`
		r, err := ParseResume([]byte(frame))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.ThreadCursors(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseResume(%s).ThreadCursors() = %v, want %v", frame, got, tt.want)
		}
	}
	r := mustParse(t, `{"type":"resume","lastOffsetsByPartition":{},"lastSequence":77}`).(*Resume)
	if r.LastSequence == nil || *r.LastSequence != 77 || r.ThreadCursors() != nil {
		t.Fatalf("scalar lastSequence not kept visible: %#v", r)
	}
}

func TestResume_LegacyLastSequenceWrittenOnlyUpToMaxSafeInteger(t *testing.T) {
	r := &Resume{Mode: ModeThread, From: FromCursor, ThreadID: "t", LastSequence: ptr(uint64(MaxSafeInteger))}
	if got := string(r.AppendJSON(nil)); got != `{"type":"resume","mode":"thread","from":"cursor","threadId":"t","lastSequence":9007199254740991}` {
		t.Fatalf("AppendJSON = %s", got)
	}
	r.LastSequence = ptr(uint64(MaxSafeInteger + 1))
	if got := string(r.AppendJSON(nil)); strings.Contains(got, "lastSequence") {
		t.Fatalf("AppendJSON wrote an unsafe lastSequence: %s", got)
	}
}

func TestResume_WritesOffsetsAndSequencesAsStrings(t *testing.T) {
	r := mustParse(t, `{"type":"resume","lastOffsetsByPartition":{"10":5,"2":9223372036854775807},"lastSequencesByThread":{"b":1,"a":2}}`)
	want := `{"type":"resume","mode":"partition","from":"cursor","lastOffsetsByPartition":{"2":"9223372036854775807","10":"5"},"lastSequencesByThread":{"a":"2","b":"1"}}`
	if got := string(r.AppendJSON(nil)); got != want {
		t.Fatalf("AppendJSON\n got: %s\nwant: %s", got, want)
	}
}

func TestResume_DuplicateKeyLastOccurrenceWins(t *testing.T) {
	r := mustParse(t, `{"type":"resume","lastOffsetsByPartition":{"3":"1","3":"2","4":"1","4":"x"}}`).(*Resume)
	if !reflect.DeepEqual(r.LastOffsetsByPartition, map[int32]int64{3: 2}) || len(r.Rejected) != 1 {
		t.Fatalf("got %v, rejected %v", r.LastOffsetsByPartition, r.Rejected)
	}
}

func TestResume_UISampleFrames(t *testing.T) {
	tests := []struct {
		frame string
		want  *Resume
	}{
		{`{"type":"resume","lastOffsetsByPartition":{},"from":"latest"}`,
			&Resume{Mode: ModePartition, From: FromLatest, HasOffsets: true}},
		{`{"type":"resume","lastOffsetsByPartition":{"0":"42"},"from":"cursor"}`,
			NewPartitionResume(FromCursor, map[int32]int64{0: 42})},
		{`{"type":"resume","lastOffsetsByPartition":{"0":"42","1":"7"},"from":"cursor","lastSequencesByThread":{"run-1":"12"},"lastSequence":12}`,
			&Resume{Mode: ModePartition, From: FromCursor, HasOffsets: true, LastOffsetsByPartition: map[int32]int64{0: 42, 1: 7},
				HasSequences: true, LastSequencesByThread: map[string]uint64{"run-1": 12}, LastSequence: ptr(uint64(12))}},
		{`{"type":"resume"}`, &Resume{Mode: ModeThread, From: FromCursor}},
	}
	for _, tt := range tests {
		got := mustParse(t, tt.frame)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%s)\n got: %#v\nwant: %#v", tt.frame, got, tt.want)
		}
		roundTrip(t, got)
	}
}

func TestResume_RejectedListIsNotWritten(t *testing.T) {
	r := mustParse(t, `{"type":"resume","mode":"x","from":"y","lastOffsetsByPartition":{"a":"b"}}`).(*Resume)
	if len(r.Rejected) != 3 {
		t.Fatalf("rejected %v", r.Rejected)
	}
	want := `{"type":"resume","mode":"partition","from":"cursor","lastOffsetsByPartition":{}}`
	if got := string(r.AppendJSON(nil)); got != want {
		t.Fatalf("AppendJSON = %s", got)
	}
	for _, rej := range r.Rejected {
		if e := ErrorFor(rej); e.Code != CodeInvalidControl || e.Message != rej.Error() {
			t.Errorf("ErrorFor(%v) = %#v", rej, e)
		}
	}
}
