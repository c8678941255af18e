package protocol

import (
	"bytes"
	"crypto/rand"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/internal/fixture"
	"github.com/dashstream/dashstream/protocol/pb"
)

func header(seq uint64) *pb.Header {
	return &pb.Header{
		MessageId:     bytes.Repeat([]byte{0xab}, 16),
		TimestampUs:   1_700_000_000_000_000,
		TenantId:      "default",
		ThreadId:      "thread-1",
		Sequence:      seq,
		Type:          pb.MessageType_MESSAGE_TYPE_STATE_DIFF,
		SchemaVersion: SchemaVersion,
	}
}

func stateDiff(state []byte) *pb.DashStreamMessage {
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{
		Header:    header(3),
		StateHash: bytes.Repeat([]byte{1}, 32),
		FullState: state,
	}}}
}

func smallEvent() *pb.DashStreamMessage {
	h := header(2)
	h.Type = pb.MessageType_MESSAGE_TYPE_EVENT
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header: h, EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: "planner",
	}}}
}

// withoutCompression returns a copy with every header's compression unset,
// to compare messages across framings.
func withoutCompression(m *pb.DashStreamMessage) *pb.DashStreamMessage {
	c := proto.Clone(m).(*pb.DashStreamMessage)
	setCompression(c, pb.CompressionType_COMPRESSION_NONE)
	return c
}

func TestEncode_SmallMessageIsRawFrame(t *testing.T) {
	msg := smallEvent()
	raw, _ := proto.Marshal(msg)
	if len(raw) > CompressionThreshold {
		t.Fatalf("test message is %d bytes", len(raw))
	}
	v, err := Encode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != FrameRaw || !bytes.Equal(v[1:], raw) {
		t.Fatalf("value %x, want 00 ‖ %x", v, raw)
	}
}

func TestEncode_LargeRepetitiveIsZstdWithContentSize(t *testing.T) {
	msg := stateDiff(bytes.Repeat([]byte(`{"k":"value"},`), 150)) // ~2 KB, very compressible
	v, err := Encode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != FrameZstd {
		t.Fatalf("first byte 0x%02x, want 0x01", v[0])
	}
	var h zstd.Header
	if err := h.Decode(v[1:]); err != nil {
		t.Fatal(err)
	}
	if !h.HasFCS || h.HasCheckSum || h.DictionaryID != 0 {
		t.Errorf("frame header: FCS %v, checksum %v, dictionary %d; want FCS, no checksum, no dictionary", h.HasFCS, h.HasCheckSum, h.DictionaryID)
	}
	got, err := Decode(v)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.GetStateDiff().GetHeader().GetCompression(); c != pb.CompressionType_COMPRESSION_ZSTD {
		t.Errorf("header compression %v inside a 0x01 frame, want ZSTD", c)
	}
	if raw, _ := proto.Marshal(got); h.FrameContentSize != uint64(len(raw)) {
		t.Errorf("declared content size %d, protobuf is %d bytes", h.FrameContentSize, len(raw))
	}
	if !proto.Equal(withoutCompression(got), msg) {
		t.Error("decoded message differs from the original beyond the compression field")
	}
	if msg.GetStateDiff().GetHeader().GetCompression() != pb.CompressionType_COMPRESSION_NONE {
		t.Error("Encode modified its argument")
	}
}

func TestEncode_ThresholdIsStrictlyGreaterThan512(t *testing.T) {
	for _, size := range []int{CompressionThreshold, CompressionThreshold + 1} {
		msg := stateDiff(nil)
		for fill := 0; proto.Size(msg) < size; fill++ {
			msg.GetStateDiff().FullState = bytes.Repeat([]byte("a"), fill)
		}
		if n := proto.Size(msg); n != size {
			t.Fatalf("built a %d-byte message, want %d", n, size)
		}
		v, err := Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		want := FrameRaw
		if size > CompressionThreshold {
			want = FrameZstd
		}
		if v[0] != want {
			t.Errorf("%d-byte protobuf framed 0x%02x, want 0x%02x", size, v[0], want)
		}
	}
}

func TestEncode_IncompressibleStaysRaw(t *testing.T) {
	noise := make([]byte, 4096)
	rand.Read(noise)
	msg := stateDiff(noise)
	v, err := Encode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != FrameRaw {
		t.Fatalf("incompressible value framed 0x%02x", v[0])
	}
	got, err := Decode(v)
	if err != nil || !proto.Equal(got, msg) {
		t.Fatalf("round trip: %v", err)
	}
}

// EncodeOwned gives the value Encode gives, byte for byte, for small,
// compressible, incompressible and batched messages, and for messages that
// arrive with a compression field already set; only the argument's
// compression fields may differ afterwards.
func TestEncodeOwned_SameValueAsEncode(t *testing.T) {
	noise := make([]byte, 4096)
	rand.Read(noise)
	batch := &pb.EventBatch{Header: header(0)}
	for i := range 20 {
		ev := smallEvent().GetEvent()
		ev.Header.Sequence = uint64(i + 1)
		ev.NodeId = strings.Repeat("node", 10)
		batch.Events = append(batch.Events, ev)
	}
	marked := stateDiff(bytes.Repeat([]byte(`{"k":"value"},`), 150))
	marked.GetStateDiff().Header.Compression = pb.CompressionType_COMPRESSION_ZSTD
	markedSmall := smallEvent()
	markedSmall.GetEvent().Header.Compression = pb.CompressionType_COMPRESSION_ZSTD
	cases := map[string]*pb.DashStreamMessage{
		"small":               smallEvent(),
		"compressible":        stateDiff(bytes.Repeat([]byte(`{"k":"value"},`), 150)),
		"incompressible":      stateDiff(noise),
		"batch":               {Message: &pb.DashStreamMessage_EventBatch{EventBatch: batch}},
		"marked":              marked,
		"small marked":        markedSmall,
		"at the threshold":    stateDiff(bytes.Repeat([]byte("a"), CompressionThreshold-60)),
		"above the threshold": stateDiff(bytes.Repeat([]byte("a"), CompressionThreshold)),
	}
	for name, msg := range cases {
		want, err := Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		owned := proto.Clone(msg).(*pb.DashStreamMessage)
		got, err := EncodeOwned(owned)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: EncodeOwned %x (%v), Encode %x", name, got, err, want)
		}
		if !proto.Equal(withoutCompression(owned), withoutCompression(msg)) {
			t.Errorf("%s: EncodeOwned changed more than the compression fields", name)
		}
	}
}

func TestEncode_EventBatchMarksEveryHeader(t *testing.T) {
	batch := &pb.EventBatch{Header: header(0)}
	for i := range 20 {
		ev := smallEvent().GetEvent()
		ev.Header.Sequence = uint64(i + 1)
		ev.NodeId = strings.Repeat("node", 10)
		batch.Events = append(batch.Events, ev)
	}
	msg := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_EventBatch{EventBatch: batch}}
	v, err := Encode(msg)
	if err != nil || v[0] != FrameZstd {
		t.Fatalf("Encode: 0x%02x, %v", v[0], err)
	}
	got, err := Decode(v)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range Headers(got) {
		if h.GetCompression() != pb.CompressionType_COMPRESSION_ZSTD {
			t.Errorf("header %d: compression %v", i, h.GetCompression())
		}
	}
}

func TestEncode_ResetsStaleCompressionFlag(t *testing.T) {
	msg := smallEvent()
	msg.GetEvent().Header.Compression = pb.CompressionType_COMPRESSION_ZSTD
	v, err := Encode(msg)
	if err != nil || v[0] != FrameRaw {
		t.Fatalf("Encode: %v", err)
	}
	got, _ := Decode(v)
	if got.GetEvent().GetHeader().GetCompression() != pb.CompressionType_COMPRESSION_NONE {
		t.Error("raw frame carries a header that says ZSTD")
	}
	if msg.GetEvent().GetHeader().GetCompression() != pb.CompressionType_COMPRESSION_ZSTD {
		t.Error("Encode modified its argument")
	}
}

func TestEncode_RejectsWhatNoConsumerAccepts(t *testing.T) {
	huge := make([]byte, DefaultMaxPayloadBytes)
	if _, err := Encode(stateDiff(huge)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("11 MB message: error %v, want ErrTooLarge", err)
	}
	bad := smallEvent()
	bad.GetEvent().NodeId = "\xff"
	if _, err := Encode(bad); err == nil {
		t.Error("invalid UTF-8 string field encoded")
	}
}

func zstdFrame(t testing.TB, data []byte, withSize bool) []byte {
	t.Helper()
	if withSize {
		return encoder().EncodeAll(data, nil)
	}
	// The streaming writer does not know the size up front: no FCS.
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func TestDecode_AcceptsEveryFraming(t *testing.T) {
	msg := smallEvent()
	raw, _ := proto.Marshal(msg)
	cases := map[string][]byte{
		"raw frame":              append([]byte{FrameRaw}, raw...),
		"zstd frame":             append([]byte{FrameZstd}, zstdFrame(t, raw, true)...),
		"legacy protobuf":        raw,
		"legacy bare zstd frame": zstdFrame(t, raw, true),
	}
	for name, v := range cases {
		got, err := Decode(v)
		if err != nil || !proto.Equal(got, msg) {
			t.Errorf("%s: %v", name, err)
		}
	}
	strict := NewDecoder(Strict())
	for _, name := range []string{"legacy protobuf", "legacy bare zstd frame"} {
		if _, err := strict.Decode(cases[name]); !errors.Is(err, ErrUnframed) {
			t.Errorf("strict %s: error %v, want ErrUnframed", name, err)
		}
	}
	for _, name := range []string{"raw frame", "zstd frame"} {
		if _, err := strict.Decode(cases[name]); err != nil {
			t.Errorf("strict %s: %v", name, err)
		}
	}
}

func TestDecode_ProtoDefaultsSurvive(t *testing.T) {
	// Bytes as an upstream producer writes them, built field by field: an
	// ADD op with a JSON value carries neither op nor encoding on the wire.
	var op []byte
	op = protowire.AppendTag(op, 2, protowire.BytesType)
	op = protowire.AppendString(op, "/counter")
	op = protowire.AppendTag(op, 3, protowire.BytesType)
	op = protowire.AppendBytes(op, []byte("6"))
	var hdr []byte
	hdr = protowire.AppendTag(hdr, 4, protowire.BytesType)
	hdr = protowire.AppendString(hdr, "t-1")
	hdr = protowire.AppendTag(hdr, 5, protowire.VarintType)
	hdr = protowire.AppendVarint(hdr, 18446744073709551615) // max u64 sequence
	hdr = protowire.AppendTag(hdr, 6, protowire.VarintType)
	hdr = protowire.AppendVarint(hdr, 2)
	var diff []byte
	diff = protowire.AppendTag(diff, 1, protowire.BytesType)
	diff = protowire.AppendBytes(diff, hdr)
	diff = protowire.AppendTag(diff, 3, protowire.BytesType)
	diff = protowire.AppendBytes(diff, op)
	var env []byte
	env = protowire.AppendTag(env, 2, protowire.BytesType)
	env = protowire.AppendBytes(env, diff)

	got, err := Decode(append([]byte{FrameRaw}, env...))
	if err != nil {
		t.Fatal(err)
	}
	sd := got.GetStateDiff()
	if sd.GetHeader().GetThreadId() != "t-1" || sd.GetHeader().GetSequence() != 18446744073709551615 ||
		sd.GetHeader().GetType() != pb.MessageType_MESSAGE_TYPE_STATE_DIFF || sd.GetHeader().GetSchemaVersion() != 0 {
		t.Errorf("header decoded wrong: %v", sd.GetHeader())
	}
	o := sd.GetOperations()[0]
	if o.GetOp() != pb.DiffOperation_OP_TYPE_ADD || o.GetEncoding() != pb.DiffOperation_VALUE_ENCODING_JSON ||
		o.GetPath() != "/counter" || string(o.GetValue()) != "6" {
		t.Errorf("operation decoded wrong: %v", o)
	}
}

func TestDecode_RejectsBadInputWithTypedErrors(t *testing.T) {
	raw, _ := proto.Marshal(stateDiff([]byte(`{"a":1}`)))
	good := zstdFrame(t, raw, true)
	var h zstd.Header
	if err := h.Decode(good); err != nil {
		t.Fatal(err)
	}
	// A lying header: same frame, content size rewritten smaller and larger.
	lie := func(delta int) []byte {
		f := bytes.Clone(good)
		fcsAt := h.HeaderSize - 1 // 1-byte FCS at the end of a single-segment header of a small frame
		f[fcsAt] = byte(int(f[fcsAt]) + delta)
		return append([]byte{FrameZstd}, f...)
	}
	skippable := []byte{FrameZstd, 0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}
	cases := []struct {
		name  string
		value []byte
		want  error
	}{
		{"empty", nil, ErrEmpty},
		{"zstd frame without content size", append([]byte{FrameZstd}, zstdFrame(t, raw, false)...), ErrMissingContentSize},
		{"legacy zstd without content size", zstdFrame(t, raw, false), ErrMissingContentSize},
		{"skippable frame", skippable, ErrMissingContentSize},
		{"header claims fewer bytes", lie(-3), ErrCorruptZstd},
		{"header claims more bytes", lie(+3), ErrCorruptZstd},
		{"truncated zstd", append([]byte{FrameZstd}, good[:len(good)-4]...), ErrCorruptZstd},
		{"zstd magic then garbage", []byte{FrameZstd, 0x28, 0xB5, 0x2F, 0xFD, 0xff, 0xff}, ErrCorruptZstd},
		{"not zstd at all", []byte{FrameZstd, 'h', 'e', 'l', 'l', 'o'}, ErrCorruptZstd},
		{"only the framing byte", []byte{FrameZstd}, ErrCorruptZstd},
		{"truncated frame header", []byte{FrameZstd, 0x28, 0xB5, 0x2F, 0xFD, 0xE0, 0, 0}, ErrCorruptZstd},
		{"garbage protobuf", []byte{FrameRaw, 0xff, 0xff, 0xff}, ErrInvalidProtobuf},
		{"truncated protobuf", append([]byte{FrameRaw}, raw[:len(raw)-5]...), ErrInvalidProtobuf},
		{"invalid UTF-8 string field", []byte{FrameRaw, 0x0a, 0x05, 0x0a, 0x03, 0x22, 0x01, 0xff}, ErrInvalidProtobuf},
		{"legacy garbage", []byte{0x07, 0x07, 0x07}, ErrInvalidProtobuf},
	}
	for _, c := range cases {
		msg, err := Decode(c.value)
		if !errors.Is(err, c.want) || msg != nil {
			t.Errorf("%s: %v, %v; want %v", c.name, msg, err, c.want)
		}
	}
}

func TestDecode_SizeLimitHoldsBeforeAllocating(t *testing.T) {
	d := NewDecoder(WithMaxPayloadBytes(1 << 20))
	// A 64 MB value and a tiny frame declaring 4 GB must both fail without
	// allocating anything like their claimed size.
	bigValue := make([]byte, 64<<20)
	bigValue[0] = FrameRaw
	bomb := encoder().EncodeAll(make([]byte, 2<<20), []byte{FrameZstd}) // 2 MB of zeros, compressed tiny
	// Single segment, 8-byte content size 2^32, then one empty last block.
	claims4GB := []byte{FrameZstd, 0x28, 0xB5, 0x2F, 0xFD, 0xE0, 0, 0, 0, 0, 1, 0, 0, 0, 0x01, 0, 0}
	for name, v := range map[string][]byte{"64 MB raw": bigValue, "64 MB legacy": bigValue[1:], "2 MB bomb": bomb, "claims 4 GB": claims4GB} {
		if name == "64 MB legacy" {
			v = append([]byte{0x0a}, v[1:]...)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := d.Decode(v)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: error %v, want ErrTooLarge", name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
			t.Errorf("%s: allocated %d bytes before rejecting", name, alloc)
		}
	}
	// Exactly at the limit is fine, framed and compressed.
	atLimit := make([]byte, 1<<20)
	if _, err := d.Unframe(append([]byte{FrameRaw}, atLimit...)); err != nil {
		t.Errorf("raw value at the limit: %v", err)
	}
	if out, err := d.Unframe(encoder().EncodeAll(atLimit, []byte{FrameZstd})); err != nil || len(out) != len(atLimit) {
		t.Errorf("zstd value at the limit: %d bytes, %v", len(out), err)
	}
	if d.MaxPayloadBytes() != 1<<20 || NewDecoder(WithMaxPayloadBytes(-1)).MaxPayloadBytes() != DefaultMaxPayloadBytes {
		t.Error("MaxPayloadBytes")
	}
}

func TestErrorClass(t *testing.T) {
	cases := map[error]string{
		nil:                                "",
		ErrEmpty:                           "empty",
		ErrTooLarge:                        "too_large",
		ErrMissingContentSize:              "missing_content_size",
		ErrCorruptZstd:                     "corrupt_zstd",
		ErrInvalidProtobuf:                 "invalid_protobuf",
		ErrUnframed:                        "unframed",
		errors.New("x"):                    "other",
		errors.Join(ErrTooLarge, ErrEmpty): "empty",
	}
	for err, want := range cases {
		if got := ErrorClass(err); got != want {
			t.Errorf("ErrorClass(%v) = %q, want %q", err, got, want)
		}
	}
	_, err := Decode([]byte{FrameRaw, 0xff})
	if ErrorClass(err) != "invalid_protobuf" {
		t.Errorf("class of a wrapped decode error: %q", ErrorClass(err))
	}
}

func TestEncodeDecode_RealisticState(t *testing.T) {
	msg := stateDiff(fixture.State(20_000))
	v, err := Encode(msg)
	if err != nil || v[0] != FrameZstd {
		t.Fatalf("Encode: %v", err)
	}
	if len(v) > proto.Size(msg)/2 {
		t.Errorf("20 KB state compressed only to %d bytes", len(v))
	}
	got, err := Decode(v)
	if err != nil || !proto.Equal(withoutCompression(got), msg) {
		t.Fatalf("round trip: %v", err)
	}
}

// Decode inflates zstd frames into a reused buffer; what it returned
// before must not change when the buffer is used again.
func TestDecode_ZstdMessagesOwnTheirMemory(t *testing.T) {
	var msgs []*pb.DashStreamMessage
	var values [][]byte
	for i := range 4 {
		m := stateDiff([]byte(strings.Repeat(string(rune('a'+i)), 3000)))
		m.GetStateDiff().Header.ThreadId = strings.Repeat(string(rune('A'+i)), 40)
		m.GetStateDiff().Operations = []*pb.DiffOperation{{Path: "/" + strings.Repeat("p", 600+i), Value: bytes.Repeat([]byte{'1'}, 700)}}
		v, err := Encode(m)
		if err != nil || v[0] != FrameZstd {
			t.Fatalf("encode: 0x%02x %v", v[0], err)
		}
		msgs, values = append(msgs, withoutCompression(m)), append(values, v)
	}
	var got []*pb.DashStreamMessage
	for range 3 {
		got = got[:0]
		for _, v := range values {
			m, err := Decode(v)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
	}
	for i, m := range got {
		if !proto.Equal(withoutCompression(m), msgs[i]) {
			t.Fatalf("message %d changed after later decodes", i)
		}
	}
}
