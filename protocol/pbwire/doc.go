// Package pbwire decodes DashStream protobufs (protocol/pb) with
// google.golang.org/protobuf/encoding/protowire, field by field, instead of
// through protobuf-go's reflection: the browser's apply loop spends a third
// of its time decoding, and reflection over oneofs and maps is most of what
// separates protobuf-go from a JavaScript decoder there.
//
// It fills the generated structs, so nothing above it changes, and it
// keeps proto.Unmarshal's semantics exactly, which FuzzUnmarshal_SameAsProto
// checks against proto.Unmarshal itself: proto3 strings must be UTF-8;
// unknown fields (and known fields of the wrong wire type) are kept as
// unknown fields, with their tags re-encoded as protobuf-go does; repeated
// scalars are read packed or not; the last of a repeated scalar or oneof
// member wins and a message that appears twice is merged; a map entry
// without key or value gets the zero one; truncated or invalid wire data
// is an error; messages nest no deeper than protobuf-go allows (a tenth of
// that in the browser, whose call stack is the JavaScript engine's).
//
// This is hand-written code doing a library's job, on purpose: generated
// fast decoders (vtprotobuf) skip the UTF-8 check and are several times
// larger, which app.wasm's size budget cannot take. Variants that are rare
// on the wire (Checkpoint, ExecutionTrace) go to proto.Unmarshal.
package pbwire
