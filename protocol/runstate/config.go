package runstate

import "time"

// Config bounds what a Store keeps. A zero field takes its default (see
// DefaultConfig); negative values are treated as zero.
//
// The defaults let a dashboard follow a couple of hundred concurrent runs of
// a thousand messages each in well under 150 MB, and keep the upstream UI's
// per-item limits where they exist (§6.7 of its inventory): 10 MiB snapshots,
// 2 MiB schemas, 1,000-character attribute strings, 2,000-character node
// errors, 1,000 unbound messages.
type Config struct {
	// MaxRuns is the number of runs kept (default 200; upstream kept 50).
	// The least recently active unpinned run is evicted first.
	MaxRuns int
	// MaxEventsPerRun bounds each run's event log (default 2,000).
	MaxEventsPerRun int
	// KeyframeEvery: a keyframe is kept every this many patch changes
	// (default 32), besides every GraphStart, full state, checkpoint and
	// attribute merge. Time travel replays at most this many patches.
	KeyframeEvery int
	// MaxKeyframesPerRun bounds the keyframes of a run (default 64); the
	// oldest go first, and with them the patches before the new oldest.
	MaxKeyframesPerRun int
	// MaxCheckpointsPerRun bounds the checkpoint states kept by id (default
	// 16, M-715). Ids of valid checkpoints are remembered longer (8 times as
	// many), so a diff naming an evicted checkpoint is not reported as
	// corrupted.
	MaxCheckpointsPerRun int
	// ReorderWindow is how many out-of-order messages a thread may hold
	// while waiting for a missing sequence (default 64).
	ReorderWindow int
	// ReorderMaxAge is how long the oldest waiting message may wait before
	// the hole is declared (default 2 s).
	ReorderMaxAge time.Duration
	// BaselineWait is how long the first messages of a newly seen thread
	// wait for earlier ones when they do not start at sequence 1 (default
	// 250 ms): long enough for a GraphStart overtaken by its run's next
	// messages, short enough that a run joined mid-stream shows at once.
	BaselineWait time.Duration
	// MaxSnapshotBytes bounds a full state, a checkpoint state (after
	// decompression) and a state attribute (default 10 MiB).
	MaxSnapshotBytes int
	// MaxSchemaBytes bounds graph_schema_json and graph_manifest (default
	// 2 MiB).
	MaxSchemaBytes int
	// MaxAttrChars bounds each stored attribute or summary value, in
	// characters (default 1,000).
	MaxAttrChars int
	// MaxEventSummaryBytes bounds all summary fields of one event together
	// (default 4 KiB); later fields are dropped and counted.
	MaxEventSummaryBytes int
	// MaxErrorChars bounds node and run error texts (default 2,000).
	MaxErrorChars int
	// MaxNodesPerRun bounds the node states of a run (default 1,000).
	MaxNodesPerRun int
	// MaxTokenStreamsPerRun bounds the token streams (request ids) of a run
	// (default 128); MaxTokenTextBytes bounds the text kept per stream
	// (default 64 KiB).
	MaxTokenStreamsPerRun int
	MaxTokenTextBytes     int
	// MaxToolCallsPerRun bounds the tool executions of a run (default 256).
	MaxToolCallsPerRun int
	// MaxMetricsPerRun bounds the latest metric values of a run (default
	// 256).
	MaxMetricsPerRun int
	// MaxErrorsPerRun bounds the Error messages kept per run (default 100).
	MaxErrorsPerRun int
	// MaxTracesPerRun bounds the ExecutionTraces kept per run (default 8).
	MaxTracesPerRun int
	// MaxProblemsPerRun bounds the integrity history of a run (default 32).
	MaxProblemsPerRun int
	// MaxMessageIDs is how many message_ids of unsequenced messages each run
	// remembers for dedupe (default 1,024).
	MaxMessageIDs int
	// MaxQuarantine bounds the list of messages without a thread_id
	// (default 1,000).
	MaxQuarantine int
	// MaxHashCacheBytes bounds what the store keeps to hash each run's
	// next state faster: the canonical text of the last state and the
	// SHA-256 states along it (default 32 MiB over all runs; each run
	// keeps about 1.5 times its state; see statehash.Chain).
	MaxHashCacheBytes int
	// MaxSchemas and MaxThreadsPerSchema bound the schema observations
	// (defaults 100 and 50, as upstream).
	MaxSchemas          int
	MaxThreadsPerSchema int
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		MaxRuns:               200,
		MaxEventsPerRun:       2000,
		KeyframeEvery:         32,
		MaxKeyframesPerRun:    64,
		MaxCheckpointsPerRun:  16,
		ReorderWindow:         64,
		ReorderMaxAge:         2 * time.Second,
		BaselineWait:          250 * time.Millisecond,
		MaxSnapshotBytes:      10 << 20,
		MaxSchemaBytes:        2 << 20,
		MaxAttrChars:          1000,
		MaxEventSummaryBytes:  4 << 10,
		MaxErrorChars:         2000,
		MaxNodesPerRun:        1000,
		MaxTokenStreamsPerRun: 128,
		MaxTokenTextBytes:     64 << 10,
		MaxToolCallsPerRun:    256,
		MaxMetricsPerRun:      256,
		MaxErrorsPerRun:       100,
		MaxTracesPerRun:       8,
		MaxProblemsPerRun:     32,
		MaxMessageIDs:         1024,
		MaxQuarantine:         1000,
		MaxHashCacheBytes:     32 << 20,
		MaxSchemas:            100,
		MaxThreadsPerSchema:   50,
	}
}

// withDefaults returns c with every unset field at its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&c.MaxRuns, d.MaxRuns)
	pick(&c.MaxEventsPerRun, d.MaxEventsPerRun)
	pick(&c.KeyframeEvery, d.KeyframeEvery)
	pick(&c.MaxKeyframesPerRun, d.MaxKeyframesPerRun)
	pick(&c.MaxCheckpointsPerRun, d.MaxCheckpointsPerRun)
	pick(&c.ReorderWindow, d.ReorderWindow)
	if c.ReorderMaxAge <= 0 {
		c.ReorderMaxAge = d.ReorderMaxAge
	}
	if c.BaselineWait <= 0 {
		c.BaselineWait = d.BaselineWait
	}
	pick(&c.MaxSnapshotBytes, d.MaxSnapshotBytes)
	pick(&c.MaxSchemaBytes, d.MaxSchemaBytes)
	pick(&c.MaxAttrChars, d.MaxAttrChars)
	pick(&c.MaxEventSummaryBytes, d.MaxEventSummaryBytes)
	pick(&c.MaxErrorChars, d.MaxErrorChars)
	pick(&c.MaxNodesPerRun, d.MaxNodesPerRun)
	pick(&c.MaxTokenStreamsPerRun, d.MaxTokenStreamsPerRun)
	pick(&c.MaxTokenTextBytes, d.MaxTokenTextBytes)
	pick(&c.MaxToolCallsPerRun, d.MaxToolCallsPerRun)
	pick(&c.MaxMetricsPerRun, d.MaxMetricsPerRun)
	pick(&c.MaxErrorsPerRun, d.MaxErrorsPerRun)
	pick(&c.MaxTracesPerRun, d.MaxTracesPerRun)
	pick(&c.MaxProblemsPerRun, d.MaxProblemsPerRun)
	pick(&c.MaxMessageIDs, d.MaxMessageIDs)
	pick(&c.MaxQuarantine, d.MaxQuarantine)
	pick(&c.MaxHashCacheBytes, d.MaxHashCacheBytes)
	pick(&c.MaxSchemas, d.MaxSchemas)
	pick(&c.MaxThreadsPerSchema, d.MaxThreadsPerSchema)
	// Keyframes must at least cover one keyframe interval, or the patches
	// between two keyframes could outlive the keyframe they start from.
	c.MaxKeyframesPerRun = max(c.MaxKeyframesPerRun, 2)
	return c
}
