package hub

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dashstream/dashstream/protocol/control"
)

func TestControl_BadInputGetsAnErrorAndTheConnectionLives(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	c := g.dial(nil)
	for _, frame := range []string{
		`not json`, `{"type":`, `[]`, `{"type":42}`, `{"type":"frobnicate"}`, `{"no":"type"}`,
		`{"type":"cursor","partition":0,"offset":"1"}`, // a server message
		`{"type":"resume","lastOffsetsByPartition":{"-1":"x","0":"abc","1":1.5}}`,
		"{\"type\":\"résumé\",\"é\":\"\u2028\"}", "\xff\xfe", strings.Repeat("[", 100000),
	} {
		c.sendRaw(frame)
		e := c.mustNext()
		errMsg, ok := e.msg.(*control.Error)
		if !ok || errMsg.Code != control.CodeInvalidControl {
			t.Errorf("frame %.40q: got %s, want an INVALID_CONTROL error", frame, e)
		}
		if strings.Contains(frame, "resume") {
			until[*control.ReplayComplete](c) // the valid part of the resume still runs
		}
	}
	// Binary frames from the client are ignored.
	ctx, cancel := testCtx()
	defer cancel()
	c.ws.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
	c.send(&control.Ping{})
	if e := c.mustNext(); e.msg == nil || e.msg.Type() != control.TypePong {
		t.Fatalf("after bad input, ping got %s", e)
	}
	if testutil.ToFloat64(g.m.ControlParseFailures) < 8 {
		t.Error("parse failures not counted")
	}
}

func TestControl_OversizedFrameIsRefusedAndClosed(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	c := g.dial(nil)
	c.sendRaw(`{"type":"ping","pad":"` + strings.Repeat("x", control.MaxControlFrameBytes) + `"}`)
	e, err := c.next(10 * time.Second)
	if err == nil {
		if m, ok := e.msg.(*control.Error); !ok || m.Code != control.CodeControlFrameTooLarge {
			t.Errorf("got %s", e)
		}
		_, err = c.next(10 * time.Second)
	}
	if st := websocket.CloseStatus(err); st != websocket.StatusMessageTooBig {
		t.Errorf("closed with %v, want 1009", st)
	}
	eventually(t, "the oversized frame counted", func() bool { return testutil.ToFloat64(g.m.ControlOversized) == 1 })
}

func TestControl_TooManyPartitionsIsAnErrorThenAClose(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	c := g.dial(nil)
	var b strings.Builder
	b.WriteString(`{"type":"resume","lastOffsetsByPartition":{`)
	for i := range control.MaxResumePartitions + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + itoa(i) + `":"1"`)
	}
	b.WriteString(`}}`)
	c.sendRaw(b.String())
	e := c.mustNext()
	if m, ok := e.msg.(*control.Error); !ok || m.Code != control.CodeResumeTooManyPartitions {
		t.Fatalf("got %s", e)
	}
	_, err := c.next(10 * time.Second)
	if st := websocket.CloseStatus(err); st != websocket.StatusPolicyViolation {
		t.Errorf("closed with %v, want 1008", st)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func testCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}
