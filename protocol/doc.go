// Package protocol is DashStream's wire contract: the framing of a Kafka
// record value (which is also the payload of every binary WebSocket frame),
// shared by the gateway, the producer and the browser.
//
// A value is one framing byte followed by a protobuf DashStreamMessage
// (package protocol/pb, generated from dashstream.proto):
//
//	0x00 ‖ protobuf                 uncompressed
//	0x01 ‖ zstd frame of protobuf   compressed; the frame declares its content size
//
// Encode compresses only when the protobuf is over CompressionThreshold bytes
// and compression actually saves space, and then sets every header's
// compression field to ZSTD, as the upstream producer does. Decode also reads
// legacy unframed protobuf (any other first byte, optionally a bare zstd
// frame) unless the Decoder is strict.
//
// Decode never allocates more than its size limit, whatever the input
// claims: the value's length is checked first, then the zstd frame's declared
// content size (a frame without one is rejected), and decompression stops at
// that declared size. Failures are typed (ErrEmpty, ErrTooLarge,
// ErrMissingContentSize, ErrCorruptZstd, ErrInvalidProtobuf, ErrUnframed) so
// callers can branch on them and count them (ErrorClass gives a metric label).
//
// Nothing here does I/O; the package builds for linux and js/wasm alike.
package protocol
