//go:build !js

package pbwire

import "google.golang.org/protobuf/encoding/protowire"

// recursionLimit is proto.UnmarshalOptions' default nesting limit; depths
// are counted exactly as protobuf-go counts them (one per message, one
// more per map entry), so the same inputs are too deep for both.
const recursionLimit = protowire.DefaultRecursionLimit
