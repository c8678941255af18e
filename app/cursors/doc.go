// Package cursors is the dashboard's cursor store: the Kafka offset it last
// committed per partition and the last sequence per thread, kept across
// reloads in the browser's localStorage with the upstream UI's keys and
// value formats (so either dashboard can resume where the other stopped).
//
// Keys (upstream §3.3), namespaced by the server's resume_namespace:
//
//	dashstream_lastOffsetsByPartition_v1:<ns>   {"0":"12345","3":"7"}
//	dashstream_lastSequencesByThread_v1:<ns>    {"thread-a":"42"}
//
// Offsets and sequences are written as decimal strings (M-707), so
// 9007199254740993 survives a reload exactly; numbers written by older
// versions are accepted and converted. When the namespaced key is absent but
// the un-namespaced legacy key exists, its value is copied over (a
// migration).
//
// Commits are monotonic (a replay may legitimately re-send older records;
// a lower offset or sequence never replaces a higher one). Writes are
// throttled to one per FlushInterval (1 s): a commit marks the store dirty,
// FlushIfDue writes when the interval has passed, and Flush writes at once,
// for pagehide and visibilitychange (BindPageLifecycle registers those in
// the browser). The maps are bounded, least recently updated first (100
// partitions, partition 0 never evicted; 500 threads), and written oldest
// first, so the order survives a reload.
//
// Storage is a three-method interface: localStorage in the browser
// (storage_js.go, with JavaScript exceptions caught as errors) and a memory
// implementation elsewhere. Garbage, foreign or non-UTF-8 stored values, and
// a full or unavailable storage, give a warning and an empty (or
// memory-only) store, never a panic (U12). Warnings go to Options.Warn,
// log/slog by default; nothing is logged per commit.
//
// A Store is safe for concurrent use.
package cursors
