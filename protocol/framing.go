package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pbwire"
)

// Framing bytes: the first byte of every value this package writes.
const (
	FrameRaw  byte = 0x00
	FrameZstd byte = 0x01
)

const (
	// DefaultMaxPayloadBytes is the largest protobuf a Decoder accepts by
	// default, compressed or not: the upstream WEBSOCKET_MAX_PAYLOAD_BYTES
	// default (10 MiB).
	DefaultMaxPayloadBytes = 10 << 20
	// CompressionThreshold: Encode compresses a protobuf only when it is
	// larger than this many bytes.
	CompressionThreshold = 512
	// SchemaVersion is the Header.schema_version of this schema.
	SchemaVersion = 1
)

// zstdMagic starts every zstd frame; a legacy unframed value may be one.
var zstdMagic = []byte{0x28, 0xB5, 0x2F, 0xFD}

// Decode errors; every error Decode returns wraps exactly one of them.
var (
	ErrEmpty              = errors.New("empty payload")
	ErrTooLarge           = errors.New("payload too large")
	ErrMissingContentSize = errors.New("zstd frame does not declare its content size")
	ErrCorruptZstd        = errors.New("corrupt zstd frame")
	ErrInvalidProtobuf    = errors.New("invalid protobuf")
	ErrUnframed           = errors.New("unframed payload rejected by strict decoder")
)

// ErrorClass returns a short label for a Decode error, for metrics and logs:
// "empty", "too_large", "missing_content_size", "corrupt_zstd",
// "invalid_protobuf", "unframed", or "other"; "" for nil.
func ErrorClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrEmpty):
		return "empty"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrMissingContentSize):
		return "missing_content_size"
	case errors.Is(err, ErrCorruptZstd):
		return "corrupt_zstd"
	case errors.Is(err, ErrInvalidProtobuf):
		return "invalid_protobuf"
	case errors.Is(err, ErrUnframed):
		return "unframed"
	}
	return "other"
}

// Decoder decodes framed values. It is safe for concurrent use.
type Decoder struct {
	max    int
	strict bool
	zstd   *zstd.Decoder
}

// DecoderOption configures NewDecoder.
type DecoderOption func(*Decoder)

// WithMaxPayloadBytes sets the size limit (values <= 0 mean the default): the
// largest protobuf accepted, before or after decompression. A framed value
// may be one byte longer, for its framing byte.
func WithMaxPayloadBytes(n int) DecoderOption {
	return func(d *Decoder) {
		if n > 0 {
			d.max = n
		}
	}
}

// Strict makes the decoder reject values whose first byte is neither 0x00
// nor 0x01 (legacy unframed protobuf) with ErrUnframed.
func Strict() DecoderOption { return func(d *Decoder) { d.strict = true } }

// NewDecoder returns a compatible decoder with DefaultMaxPayloadBytes, as
// changed by opts.
func NewDecoder(opts ...DecoderOption) *Decoder {
	d := &Decoder{max: DefaultMaxPayloadBytes}
	for _, o := range opts {
		o(d)
	}
	zd, err := zstd.NewReader(nil,
		zstd.WithDecoderMaxMemory(uint64(d.max)),
		zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderConcurrency(0),
	)
	if err != nil {
		// Only invalid options fail, and ours are fixed and valid.
		panic(fmt.Sprintf("protocol: zstd decoder: %v", err))
	}
	d.zstd = zd
	return d
}

// MaxPayloadBytes returns the decoder's size limit.
func (d *Decoder) MaxPayloadBytes() int { return d.max }

var defaultDecoder = sync.OnceValue(func() *Decoder { return NewDecoder() })

// Decode decodes value with a shared compatible decoder and the default
// size limit.
func Decode(value []byte) (*pb.DashStreamMessage, error) { return defaultDecoder().Decode(value) }

// Decode decodes one framed value into a message.
func (d *Decoder) Decode(value []byte) (*pb.DashStreamMessage, error) {
	// A zstd frame is inflated into a reused buffer: the message copies
	// what it keeps.
	var buf *[]byte
	if len(value) > 0 && value[0] == FrameZstd {
		buf = scratch.Get().(*[]byte)
		defer func() {
			if cap(*buf) <= maxReusedBuffer {
				scratch.Put(buf)
			}
		}()
	}
	raw, err := d.unframe(value, buf)
	if err != nil {
		return nil, err
	}
	// pbwire decodes without protobuf-go's reflection, with the same
	// result, and copies what it keeps.
	msg, err := pbwire.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("protocol: %w: %w", ErrInvalidProtobuf, err)
	}
	return msg, nil
}

// scratch holds buffers of up to maxReusedBuffer bytes for what lives only
// during one Decode or Encode: inflated frames, protobufs to compress.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

const maxReusedBuffer = 256 << 10

// Unframe checks value's size and framing and returns its protobuf bytes,
// decompressed if needed, without decoding them. The result may share memory
// with value.
func (d *Decoder) Unframe(value []byte) ([]byte, error) { return d.unframe(value, nil) }

// unframe is Unframe; a zstd frame is inflated into *buf (grown if
// needed) when buf is not nil.
func (d *Decoder) unframe(value []byte, buf *[]byte) ([]byte, error) {
	if len(value) == 0 {
		return nil, fmt.Errorf("protocol: %w", ErrEmpty)
	}
	switch value[0] {
	case FrameRaw:
		if len(value)-1 > d.max {
			return nil, d.tooLarge("value", len(value)-1)
		}
		return value[1:], nil
	case FrameZstd:
		if len(value)-1 > d.max {
			return nil, d.tooLarge("value", len(value)-1)
		}
		return d.decompress(value[1:], buf)
	}
	if d.strict {
		return nil, fmt.Errorf("protocol: %w: first byte 0x%02x", ErrUnframed, value[0])
	}
	if len(value) > d.max {
		return nil, d.tooLarge("value", len(value))
	}
	if bytes.HasPrefix(value, zstdMagic) {
		return d.decompress(value, buf)
	}
	return value, nil
}

func (d *Decoder) tooLarge(what string, n int) error {
	return fmt.Errorf("protocol: %w: %s of %d bytes exceeds %d", ErrTooLarge, what, n, d.max)
}

// decompress inflates one zstd frame into a buffer of exactly its declared
// content size, so neither a huge claim nor a lying one can exceed the limit:
// *buf if buf is not nil (grown if needed), else a new one.
func (d *Decoder) decompress(frame []byte, buf *[]byte) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		return nil, fmt.Errorf("protocol: %w: header: %w", ErrCorruptZstd, err)
	}
	if h.Skippable || !h.HasFCS {
		return nil, fmt.Errorf("protocol: %w", ErrMissingContentSize)
	}
	if h.FrameContentSize > uint64(d.max) {
		return nil, d.tooLarge("declared content size", int(min(h.FrameContentSize, 1<<62)))
	}
	var dst []byte
	if buf != nil && uint64(cap(*buf)) >= h.FrameContentSize {
		dst = (*buf)[:0:h.FrameContentSize]
	} else {
		dst = make([]byte, 0, h.FrameContentSize)
		if buf != nil {
			*buf = dst
		}
	}
	out, err := d.zstd.DecodeAll(frame, dst)
	if err != nil {
		return nil, fmt.Errorf("protocol: %w: %w", ErrCorruptZstd, err)
	}
	if uint64(len(out)) != h.FrameContentSize {
		return nil, fmt.Errorf("protocol: %w: content is %d bytes, header declares %d", ErrCorruptZstd, len(out), h.FrameContentSize)
	}
	return out, nil
}

// The encoder is made on first use by a plain function, not a package-level
// sync.OnceValue: the closure such a variable holds is reachable from the
// package's init, so the linker would keep zstd's whole encoder in app.wasm,
// which only decodes (about 60 KB of its brotli).
var (
	encoderOnce sync.Once
	zstdEncoder *zstd.Encoder
)

func encoder() *zstd.Encoder {
	encoderOnce.Do(func() {
		// Level 3 (SpeedDefault), no checksum, no dictionary; single segment so
		// every frame declares its content size, as consumers require.
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderCRC(false),
			zstd.WithSingleSegment(true),
			zstd.WithEncoderConcurrency(1),
		)
		if err != nil {
			panic(fmt.Sprintf("protocol: zstd encoder: %v", err))
		}
		zstdEncoder = e
	})
	return zstdEncoder
}

// Encode frames msg as a Kafka value: 0x00 ‖ protobuf, or, when the protobuf
// is over CompressionThreshold bytes and zstd makes it smaller, 0x01 ‖ zstd
// with every header's compression field set to ZSTD. msg is not modified.
// A protobuf over DefaultMaxPayloadBytes fails with ErrTooLarge, since no
// consumer would accept it.
func Encode(msg *pb.DashStreamMessage) ([]byte, error) {
	if hasCompressionSet(msg) || pbwire.Size(msg) > CompressionThreshold {
		msg = proto.Clone(msg).(*pb.DashStreamMessage)
	}
	return EncodeOwned(msg)
}

// EncodeOwned is Encode for a message the caller owns and shares with no
// one: it sets every header's compression field to what the value says
// instead of working on a copy, so a compressed value costs one
// marshalling, not a copy and two. The field stays set. Marshalling is
// pbwire's, proto.Marshal's bytes without its reflection.
func EncodeOwned(msg *pb.DashStreamMessage) ([]byte, error) {
	if hasCompressionSet(msg) {
		setCompression(msg, pb.CompressionType_COMPRESSION_NONE)
	}
	size := pbwire.Size(msg)
	if size > DefaultMaxPayloadBytes {
		return nil, fmt.Errorf("protocol: encode: %w: protobuf of %d bytes exceeds %d", ErrTooLarge, size, DefaultMaxPayloadBytes)
	}
	if size > CompressionThreshold {
		// The headers inside a compressed value say so.
		setCompression(msg, pb.CompressionType_COMPRESSION_ZSTD)
		buf := scratch.Get().(*[]byte)
		marked, err := pbwire.Marshal((*buf)[:0], msg)
		if err != nil {
			scratch.Put(buf)
			return nil, fmt.Errorf("protocol: encode: %w", err)
		}
		// States compress to a third or better: room for that at once.
		z := encoder().EncodeAll(marked, append(make([]byte, 0, 1+len(marked)/3+64), FrameZstd))
		if cap(marked) <= maxReusedBuffer {
			*buf = marked
			scratch.Put(buf)
		}
		if len(z)-1 < len(marked) {
			return z, nil
		}
		setCompression(msg, pb.CompressionType_COMPRESSION_NONE)
	}
	buf, err := pbwire.Marshal(append(make([]byte, 0, 1+size), FrameRaw), msg)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode: %w", err)
	}
	return buf, nil
}

// Header returns the header of msg's variant (an EventBatch's own header,
// not its events'), or nil for an empty message. It does not allocate.
func Header(msg *pb.DashStreamMessage) *pb.Header {
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_Event:
		return m.Event.GetHeader()
	case *pb.DashStreamMessage_StateDiff:
		return m.StateDiff.GetHeader()
	case *pb.DashStreamMessage_TokenChunk:
		return m.TokenChunk.GetHeader()
	case *pb.DashStreamMessage_ToolExecution:
		return m.ToolExecution.GetHeader()
	case *pb.DashStreamMessage_Checkpoint:
		return m.Checkpoint.GetHeader()
	case *pb.DashStreamMessage_Metrics:
		return m.Metrics.GetHeader()
	case *pb.DashStreamMessage_Error:
		return m.Error.GetHeader()
	case *pb.DashStreamMessage_ExecutionTrace:
		return m.ExecutionTrace.GetHeader()
	case *pb.DashStreamMessage_EventBatch:
		return m.EventBatch.GetHeader()
	}
	return nil
}

// Headers returns every header inside msg: the variant's own and, for an
// EventBatch, each inner event's (a batch's thread ids are its events').
func Headers(msg *pb.DashStreamMessage) []*pb.Header {
	if msg.GetMessage() == nil {
		return nil
	}
	hs := []*pb.Header{Header(msg)}
	for _, e := range msg.GetEventBatch().GetEvents() {
		hs = append(hs, e.GetHeader())
	}
	return hs
}

func hasCompressionSet(msg *pb.DashStreamMessage) bool {
	for _, h := range Headers(msg) {
		if h.GetCompression() != pb.CompressionType_COMPRESSION_NONE {
			return true
		}
	}
	return false
}

func setCompression(msg *pb.DashStreamMessage, c pb.CompressionType) {
	for _, h := range Headers(msg) {
		if h != nil {
			h.Compression = c
		}
	}
}
