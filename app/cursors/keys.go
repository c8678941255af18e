package cursors

// The upstream UI's localStorage keys (§3.3).
const (
	OffsetsKey   = "dashstream_lastOffsetsByPartition_v1"
	SequencesKey = "dashstream_lastSequencesByThread_v1"
)

// namespaced returns base:<ns>, or base itself (the legacy key) for an
// empty namespace.
func namespaced(base, ns string) string {
	if ns == "" {
		return base
	}
	return base + ":" + ns
}
