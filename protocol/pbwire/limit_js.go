package pbwire

// recursionLimit in the browser is a tenth of protobuf-go's: Go's calls
// there are the JavaScript engine's, and messages nested near 10,000
// deep sometimes overflowed its call stack (a crash of the whole wasm, not
// an error; proto.Unmarshal overflows between 1,000 and 2,000). Depths are
// counted as protobuf-go counts them; 1,000 is also jsontree.MaxDepth, the
// deepest state the dashboard parses.
const recursionLimit = 1000
