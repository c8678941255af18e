package replay

import (
	"errors"
	"fmt"
)

// ErrInvalidRecord is returned by Append for a record no Kafka consumer can
// produce (negative partition or offset). Stores refuse such records rather
// than index them, because their keys and ordering would be meaningless.
var ErrInvalidRecord = errors.New("invalid replay record")

// Validate checks the parts of a record the stores rely on.
func (r Record) Validate() error {
	if r.Partition < 0 {
		return fmt.Errorf("%w: partition %d is negative", ErrInvalidRecord, r.Partition)
	}
	if r.Offset < 0 {
		return fmt.Errorf("%w: offset %d is negative", ErrInvalidRecord, r.Offset)
	}
	return nil
}

// Indexed reports whether a thread entry goes into the thread index. An
// empty thread means "no thread" and sequence 0 means "not sequenced"
// (upstream §4.4); both are kept out of the index by every store, so
// ReadThread never returns them.
func (ts ThreadSeq) Indexed() bool { return ts.Thread != "" && ts.Seq != 0 }
