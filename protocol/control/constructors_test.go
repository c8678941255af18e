package control

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLiveLagGap_SeverityByCount(t *testing.T) {
	tests := []struct {
		count    int64
		severity string
		message  string
	}{
		{0, SeverityInfo, "[INFO] 0 messages missed due to slow connection"},
		{1, SeverityInfo, "[INFO] 1 messages missed due to slow connection"},
		{9, SeverityInfo, "[INFO] 9 messages missed due to slow connection"},
		{10, SeverityWarning, "[WARNING] 10 messages missed due to slow connection"},
		{99, SeverityWarning, "[WARNING] 99 messages missed due to slow connection"},
		{100, SeverityCritical, "[CRITICAL] 100 messages missed due to slow connection"},
		{1 << 40, SeverityCritical, "[CRITICAL] 1099511627776 messages missed due to slow connection"},
	}
	for _, tt := range tests {
		g := LiveLagGap(tt.count)
		want := &Gap{Count: tt.count, Severity: tt.severity, Message: tt.message}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("LiveLagGap(%d) = %#v", tt.count, g)
		}
	}
}

func TestPartitionGap_CountsInclusiveRange(t *testing.T) {
	g := PartitionGap(3, 43, 45)
	if g.Count != 3 || *g.Partition != 3 || *g.FromOffset != 43 || *g.ToOffset != 45 ||
		g.Severity != SeverityWarning || g.Message != ReplayGapMessage || g.ThreadID != "" || g.FromSequence != nil {
		t.Fatalf("got %#v", g)
	}
	if g := PartitionGap(0, 7, 7); g.Count != 1 {
		t.Fatalf("single offset: count %d", g.Count)
	}
	if g := PartitionGap(0, 0, maxOffset); g.Count != maxOffset {
		t.Fatalf("whole range: count %d, want saturation at max", g.Count)
	}
}

func TestThreadGap_CountsInclusiveRange(t *testing.T) {
	g := ThreadGap("run-1", 5, 9)
	if g.Count != 5 || g.ThreadID != "run-1" || *g.FromSequence != 5 || *g.ToSequence != 9 ||
		g.Partition != nil || g.Severity != SeverityWarning || g.Message != ReplayGapMessage {
		t.Fatalf("got %#v", g)
	}
	if g := ThreadGap("t", 0, maxSequence); g.Count != maxOffset {
		t.Fatalf("whole uint64 range: count %d, want saturation at int64 max", g.Count)
	}
}

func TestBackpressureDisconnect_UpstreamText(t *testing.T) {
	d := BackpressureDisconnect(1500, 1000, 60)
	want := &Disconnect{Reason: "backpressure", LagInWindow: 1500, CumulativeLag: 1500, Threshold: 1000, WindowSecs: 60,
		Message: "Disconnected due to slow consumption (1500 messages dropped within 60s window). Please reconnect using the resume protocol."}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %#v", d)
	}
	d = BackpressureDisconnect(1000, 1000, 0)
	if d.Message != "Disconnected due to slow consumption (1000 messages dropped lifetime). Please reconnect using the resume protocol." {
		t.Fatalf("lifetime text: %q", d.Message)
	}
}

func TestStaleCursor_DefaultMessage(t *testing.T) {
	c := StaleCursor(1, 2, 3)
	if !reflect.DeepEqual(c, &CursorStale{Partition: 1, Requested: 2, Oldest: 3, Message: DefaultCursorStaleMessage}) {
		t.Fatalf("got %#v", c)
	}
}

func TestNewCursorResetComplete_TruncatesTo100LowestPartitions(t *testing.T) {
	latest := map[int32]int64{}
	for p := int32(0); p < 150; p++ {
		latest[149-p] = int64(p)
	}
	m := NewCursorResetComplete(latest, true, 42)
	if len(m.LatestOffsetsByPartition) != MaxResetPartitions || !m.Truncated || m.TotalPartitions != 150 || !m.BufferCleared {
		t.Fatalf("got %d partitions, %#v", len(m.LatestOffsetsByPartition), m)
	}
	for p := int32(0); p < 100; p++ {
		if m.LatestOffsetsByPartition[p] != latest[p] {
			t.Fatalf("partition %d missing or wrong", p)
		}
	}
	want := "Cursor reset complete. 150 partition(s) available (showing first 100, truncated). Replay buffer cleared (42 keys). Use these offsets for 'from:cursor' resume."
	if m.Message != want {
		t.Fatalf("message %q\nwant    %q", m.Message, want)
	}

	m = NewCursorResetComplete(map[int32]int64{0: 5}, false, 0)
	if m.Truncated || m.BufferCleared || m.TotalPartitions != 1 ||
		m.Message != "Cursor reset complete. 1 partition(s) available. Replay buffer kept: the reset applies to this connection only. Use these offsets for 'from:cursor' resume." {
		t.Fatalf("got %#v", m)
	}
	m = NewCursorResetComplete(nil, true, 0)
	if m.LatestOffsetsByPartition != nil || m.TotalPartitions != 0 {
		t.Fatalf("got %#v", m)
	}
	roundTrip(t, m)
}

func TestErrorFor_MapsLimitsToUpstreamCodes(t *testing.T) {
	tests := []struct {
		err  error
		code string
		msg  string
	}{
		{nil, "", ""},
		{&LimitError{Count: 2000000, Limit: MaxControlFrameBytes, Err: ErrFrameTooLarge}, CodeControlFrameTooLarge,
			"Control message (2000000 bytes) exceeds maximum (1048576 bytes)"},
		{fmt.Errorf("wrapped: %w", &LimitError{Field: "lastOffsetsByPartition", Count: 2000, Limit: 1024, Err: ErrTooManyPartitions}),
			CodeResumeTooManyPartitions, "Too many partitions in resume request: 2000 > 1024"},
		{&LimitError{Field: "lastSequencesByThread", Count: 10001, Limit: 10000, Err: ErrTooManyThreads},
			CodeResumeTooManyThreads, "Too many threads in resume request: 10001 > 10000"},
		{ErrInvalidJSON, CodeInvalidControl, ErrInvalidJSON.Error()},
	}
	for _, tt := range tests {
		e := ErrorFor(tt.err)
		if tt.err == nil {
			if e != nil {
				t.Errorf("ErrorFor(nil) = %#v", e)
			}
			continue
		}
		if e.Code != tt.code || e.Message != tt.msg {
			t.Errorf("ErrorFor(%v) = %#v", tt.err, e)
		}
	}
	if e := ReplayTimeoutError(); e.Code != CodeReplayTimeout {
		t.Fatalf("got %#v", e)
	}
}

func TestError_ImplementsError(t *testing.T) {
	var err error = &Error{Code: CodeUnauthorized, Message: "admin token required"}
	if err.Error() != "control: server error UNAUTHORIZED: admin token required" {
		t.Fatalf("got %q", err)
	}
	var e *Error
	if !errors.As(fmt.Errorf("x: %w", err), &e) || e.Code != CodeUnauthorized {
		t.Fatal("errors.As failed")
	}
}

func TestLimitError_Messages(t *testing.T) {
	tests := []struct {
		err  *LimitError
		want string
	}{
		{&LimitError{Count: 5, Limit: 4, Err: ErrFrameTooLarge}, "control: frame of 5 bytes exceeds maximum (4 bytes)"},
		{&LimitError{Field: "lastOffsetsByPartition", Count: 1025, Limit: 1024, Err: ErrTooManyPartitions},
			`control: field "lastOffsetsByPartition": 1025 keys exceed maximum (1024)`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestCursorStale_ReasonsTellPastEndAndOtherNamespaceApart(t *testing.T) {
	tests := []struct {
		m      *CursorStale
		reason string
	}{
		{StaleCursor(0, 5, 10), ""},
		{CursorPastEnd(1, 1_000_000_000, 0), StalePastEnd},
		{CursorOtherNamespace(2, 3000, 0), StaleOtherNamespace},
	}
	for _, tt := range tests {
		if tt.m.Reason != tt.reason || tt.m.Message == "" {
			t.Errorf("%s: reason %q, want %q", tt.m.AppendJSON(nil), tt.m.Reason, tt.reason)
		}
		if tt.reason != "" && tt.m.Message == DefaultCursorStaleMessage {
			t.Errorf("%s: the upstream text says the data was evicted, which is not the cause", tt.m.AppendJSON(nil))
		}
	}
}

func TestUnknownPartitionsError_IsBoundedForAHostileMap(t *testing.T) {
	ps := make([]int32, MaxResumePartitions)
	for i := range ps {
		ps[i] = int32(2147483647 - i)
	}
	e := UnknownPartitionsError(ps)
	if e.Code != CodeResumeUnknownPartitions || len(e.Message) > 200 || !strings.Contains(e.Message, "1024 partition(s)") {
		t.Errorf("error for 1024 unknown partitions: %s (%d bytes)", e.AppendJSON(nil), len(e.Message))
	}
	if e := UnknownPartitionsError([]int32{7}); !strings.HasSuffix(e.Message, "ignored: 7") {
		t.Errorf("one partition: %q", e.Message)
	}
}

func TestRateLimitedError_SaysTheRateAndTheWait(t *testing.T) {
	e := RateLimitedError(20000, 1234567*time.Microsecond)
	if e.Code != CodeReplayRateLimited || !strings.Contains(e.Message, "20000 records/s") || !strings.Contains(e.Message, "1.235s") {
		t.Errorf("%s", e.AppendJSON(nil))
	}
}
