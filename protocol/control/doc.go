// Package control implements the JSON control messages of the DashStream
// WebSocket protocol: the text frames exchanged next to the binary frames that
// carry Kafka record values.
//
// The package is pure Go with no I/O, so the server and the browser client
// (GOOS=js GOARCH=wasm) share one implementation. Frames are read with
// github.com/tidwall/gjson, never by unmarshalling whole frames, and written
// by hand with deterministic output.
//
// # Message types
//
// Client to server: [Resume], [Ping], [CursorReset].
// Server to client: [Cursor], [Gap], [CursorStale], [ReplayComplete],
// [Disconnect], [Error], [Pong], [CursorResetComplete].
// [Parse] reads any of the eleven, so the browser uses it for server messages
// and the server uses it for client messages.
//
// # Wire conventions
//
// Every frame is one JSON object with a string "type" member. The rules below
// keep the protocol wire-compatible with the upstream Rust server:
//
//   - Kafka offsets (int64) and thread sequences (uint64) are written as
//     decimal strings, e.g. "offset":"42", so that JavaScript clients never
//     lose precision above 2^53. The only exception is the legacy
//     Resume "lastSequence" member, see [Resume.AppendJSON].
//   - Partitions (int32, never negative) are JSON numbers when they are a
//     member value and decimal strings when they are object keys, e.g.
//     "lastOffsetsByPartition":{"0":"42"}.
//   - Counts, totals and thresholds are JSON numbers.
//   - Cursors are exclusive: an offset in a cursor, a resume request or a
//     replay summary is the last record the client has fully processed, and a
//     replay resumes strictly after it. Cursors the server hands out can be
//     echoed back unchanged.
//
// When reading, every integer may arrive either as a JSON number or as a JSON
// string holding a decimal integer (the upstream server accepts both). Only
// plain decimal digits are accepted: "0" or a digit string without leading
// zeros. Signs, fractions, exponents, surrounding spaces, hexadecimal and
// out-of-range values are rejected with a [*FieldError] naming the field.
// Numbers are read from their literal text, never through float64.
//
// Members the package does not know are ignored, and when a member appears
// twice the last occurrence wins (as with serde_json upstream). Frames larger
// than [MaxControlFrameBytes], nested deeper than [MaxNestingDepth], not valid
// UTF-8 or not a JSON object are rejected before any member is looked at.
//
// Written frames start with "type" followed by the members in a fixed order;
// empty maps are written as {} and map keys are sorted (partitions
// numerically, thread ids bytewise). Strings are escaped so that the output is
// always valid UTF-8 JSON, even when a Go string holds invalid UTF-8 (each
// run of invalid bytes becomes one U+FFFD). Receivers must not depend on member order:
// the upstream server emits its members in alphabetical order.
package control
