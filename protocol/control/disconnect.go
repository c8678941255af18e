package control

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ReasonBackpressure is the Disconnect reason for a client that consumed too
// slowly.
const ReasonBackpressure = "backpressure"

// Disconnect announces that the server is about to close the connection.
// Members use snake_case as upstream.
type Disconnect struct {
	// Reason is the cause, e.g. ReasonBackpressure ("reason").
	Reason string
	// LagInWindow is the number of messages dropped within the window
	// ("lag_in_window").
	LagInWindow int64
	// CumulativeLag is the same figure under the name the upstream UI reads
	// ("cumulative_lag"). When a frame carries only one of the two lag
	// members, Parse copies it into the other.
	CumulativeLag int64
	// Threshold is the number of drops that triggers a disconnect.
	Threshold int64
	// WindowSecs is the length of the window in seconds; 0 means the
	// connection's lifetime ("window_secs").
	WindowSecs int64
	// Message is human-readable text.
	Message string
}

// BackpressureDisconnect returns the disconnect sent to a client that dropped
// lag messages (≥ threshold) within a window of windowSecs seconds (0: the
// connection's lifetime), with both lag members set and the upstream text.
func BackpressureDisconnect(lag, threshold, windowSecs int64) *Disconnect {
	within := "lifetime"
	if windowSecs != 0 {
		within = "within " + strconv.FormatInt(windowSecs, 10) + "s window"
	}
	return &Disconnect{
		Reason:        ReasonBackpressure,
		LagInWindow:   lag,
		CumulativeLag: lag,
		Threshold:     threshold,
		WindowSecs:    windowSecs,
		Message: "Disconnected due to slow consumption (" + strconv.FormatInt(lag, 10) +
			" messages dropped " + within + "). Please reconnect using the resume protocol.",
	}
}

// Type returns TypeDisconnect.
func (*Disconnect) Type() string { return TypeDisconnect }

// AppendJSON appends the disconnect with all its members.
func (m *Disconnect) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeDisconnect)
	dst = appendMember(dst, nameReason)
	dst = appendString(dst, m.Reason)
	dst = appendMember(dst, nameLagInWindow)
	dst = appendInt(dst, m.LagInWindow)
	dst = appendMember(dst, nameCumulativeLag)
	dst = appendInt(dst, m.CumulativeLag)
	dst = appendMember(dst, nameThreshold)
	dst = appendInt(dst, m.Threshold)
	dst = appendMember(dst, nameWindowSecs)
	dst = appendInt(dst, m.WindowSecs)
	dst = appendMember(dst, nameMessage)
	dst = appendString(dst, m.Message)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *Disconnect) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeDisconnect reads a disconnect; "reason" is required.
func decodeDisconnect(d *decoder) *Disconnect {
	m := &Disconnect{
		Reason:        d.str(fReason, true),
		LagInWindow:   d.int64(fLagInWindow, false),
		CumulativeLag: d.int64(fCumulativeLag, false),
		Threshold:     d.int64(fThreshold, false),
		WindowSecs:    d.int64(fWindowSecs, false),
		Message:       d.str(fMessage, false),
	}
	switch {
	case d.has(fLagInWindow) && !d.has(fCumulativeLag):
		m.CumulativeLag = m.LagInWindow
	case d.has(fCumulativeLag) && !d.has(fLagInWindow):
		m.LagInWindow = m.CumulativeLag
	}
	return m
}

// Error codes. The first four are upstream's, always followed by a
// disconnect; the others are our additions, and the connection lives on.
const (
	// CodeControlFrameTooLarge: a control frame exceeded MaxControlFrameBytes.
	CodeControlFrameTooLarge = "CONTROL_FRAME_TOO_LARGE"
	// CodeReplayTimeout: the resume handling exceeded the replay timeout.
	CodeReplayTimeout = "REPLAY_TIMEOUT"
	// CodeResumeTooManyPartitions: more than MaxResumePartitions partitions.
	CodeResumeTooManyPartitions = "RESUME_TOO_MANY_PARTITIONS"
	// CodeResumeTooManyThreads: more than MaxResumeThreads threads.
	CodeResumeTooManyThreads = "RESUME_TOO_MANY_THREADS"
	// CodeInvalidControl: a control frame or some of its members were
	// invalid; the server reports it without disconnecting.
	CodeInvalidControl = "INVALID_CONTROL"
	// CodeUnauthorized: the request needs credentials the client lacks, e.g.
	// a global cursor reset without a valid admin token.
	CodeUnauthorized = "UNAUTHORIZED"
	// CodeResumeUnknownPartitions: a resume named partitions the topic does
	// not have; they were ignored.
	CodeResumeUnknownPartitions = "RESUME_UNKNOWN_PARTITIONS"
	// CodeReplayRateLimited: the connection used up its replay allowance;
	// its next request (or the rest of its replay) waits, and is served.
	CodeReplayRateLimited = "REPLAY_RATE_LIMITED"
)

// maxListed bounds how many partitions an error message lists.
const maxListed = 8

// UnknownPartitionsError returns the error for a resume naming partitions
// that do not exist (sorted; the first few are listed, then a count).
func UnknownPartitionsError(partitions []int32) *Error {
	var b strings.Builder
	b.WriteString("resume names ")
	b.WriteString(strconv.Itoa(len(partitions)))
	b.WriteString(" partition(s) the topic does not have; ignored: ")
	for i, p := range partitions {
		if i == maxListed {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return &Error{Code: CodeResumeUnknownPartitions, Message: b.String()}
}

// RateLimitedError returns the error for a request that waits because its
// connection used up its replay allowance of perSecond records a second; it
// starts in about wait.
func RateLimitedError(perSecond int, wait time.Duration) *Error {
	return &Error{Code: CodeReplayRateLimited, Message: "replay limited to " + strconv.Itoa(perSecond) +
		" records/s per connection: this request starts in about " + wait.Round(time.Millisecond).String() +
		"; requests sent meanwhile queue, and beyond the queue are refused"}
}

// Error reports a control-plane error to the client.
type Error struct {
	// Code is one of the Code constants.
	Code string
	// Message is human-readable text.
	Message string
}

// FrameTooLargeError returns the error for a control frame of size bytes,
// with the upstream text.
func FrameTooLargeError(size int) *Error {
	return &Error{
		Code: CodeControlFrameTooLarge,
		Message: "Control message (" + strconv.Itoa(size) + " bytes) exceeds maximum (" +
			strconv.Itoa(MaxControlFrameBytes) + " bytes)",
	}
}

// ReplayTimeoutError returns the error for a replay that timed out, with the
// upstream text.
func ReplayTimeoutError() *Error {
	return &Error{Code: CodeReplayTimeout, Message: "Replay operation timed out due to slow connection"}
}

// TooManyPartitionsError returns the error for a resume request with n
// partitions, with the upstream text.
func TooManyPartitionsError(n int) *Error {
	return &Error{
		Code: CodeResumeTooManyPartitions,
		Message: "Too many partitions in resume request: " + strconv.Itoa(n) + " > " +
			strconv.Itoa(MaxResumePartitions),
	}
}

// TooManyThreadsError returns the error for a resume request with n threads,
// with the upstream text.
func TooManyThreadsError(n int) *Error {
	return &Error{
		Code: CodeResumeTooManyThreads,
		Message: "Too many threads in resume request: " + strconv.Itoa(n) + " > " +
			strconv.Itoa(MaxResumeThreads),
	}
}

// ErrorFor converts an error returned by Parse (or a rejection from
// Resume.Rejected) into the Error message the server sends: the upstream
// codes for the three size limits, CodeInvalidControl with the error's text
// otherwise. It returns nil for a nil err.
func ErrorFor(err error) *Error {
	if err == nil {
		return nil
	}
	var le *LimitError
	if errors.As(err, &le) {
		switch {
		case errors.Is(le.Err, ErrFrameTooLarge):
			return FrameTooLargeError(le.Count)
		case errors.Is(le.Err, ErrTooManyPartitions):
			return TooManyPartitionsError(le.Count)
		case errors.Is(le.Err, ErrTooManyThreads):
			return TooManyThreadsError(le.Count)
		}
	}
	return &Error{Code: CodeInvalidControl, Message: err.Error()}
}

// Type returns TypeError.
func (*Error) Type() string { return TypeError }

// Error implements error, so a received *Error can be returned as one.
func (m *Error) Error() string { return "control: server error " + m.Code + ": " + m.Message }

// AppendJSON appends {"type":"error","code":"…","message":"…"}.
func (m *Error) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeError)
	dst = appendMember(dst, nameCode)
	dst = appendString(dst, m.Code)
	dst = appendMember(dst, nameMessage)
	dst = appendString(dst, m.Message)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *Error) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeError reads an error; "code" is required.
func decodeError(d *decoder) *Error {
	return &Error{Code: d.str(fCode, true), Message: d.str(fMessage, false)}
}
