package applybench

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
)

// seedsFile is the seed corpus of protocol/pbwire's differential fuzz
// target: real demo values, unframed.
const seedsFile = "../../../protocol/pbwire/testdata/demo-values.bin"

// TestWriteDecoderSeeds rewrites seedsFile from a fresh demo recording
// when APPLYBENCH_WRITE_SEEDS=1 (it changes only when the demo or the
// producer changes what they send): up to perKind values of each kind
// (variant, full state or patch, event type, framing), the small ones
// first, so the corpus stays a few tens of kilobytes.
func TestWriteDecoderSeeds(t *testing.T) {
	if os.Getenv("APPLYBENCH_WRITE_SEEDS") == "" {
		t.Skip("set APPLYBENCH_WRITE_SEEDS=1 to rewrite " + seedsFile)
	}
	const perKind, maxBytes = 4, 6 << 10
	s := recordDemo(t, 12)
	d := protocol.NewDecoder()
	kinds := map[string]int{}
	var out []byte
	n := 0
	for _, v := range s.values {
		raw, err := d.Unframe(v)
		if err != nil {
			t.Fatal(err)
		}
		m, err := d.Decode(v)
		if err != nil {
			t.Fatal(err)
		}
		k := kind(m, v[0])
		if kinds[k] >= perKind || len(raw) > maxBytes {
			continue
		}
		kinds[k]++
		out = binary.LittleEndian.AppendUint32(out, uint32(len(raw)))
		out = append(out, raw...)
		n++
	}
	if err := os.WriteFile(seedsFile, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d values (%d bytes) of %d kinds to %s: %v", n, len(out), len(kinds), seedsFile, kinds)
}

func kind(m *pb.DashStreamMessage, frame byte) string {
	k := fmt.Sprintf("%T/%d", m.GetMessage(), frame)
	switch {
	case m.GetEvent() != nil:
		k += "/" + m.GetEvent().GetEventType().String()
	case m.GetStateDiff() != nil:
		k += fmt.Sprintf("/full=%t", len(m.GetStateDiff().GetFullState()) > 0)
	case m.GetTokenChunk() != nil:
		k += fmt.Sprintf("/final=%t", m.GetTokenChunk().GetIsFinal())
	case m.GetToolExecution() != nil:
		k += "/" + m.GetToolExecution().GetStage().String()
	}
	return k
}
