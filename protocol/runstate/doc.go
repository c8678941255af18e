// Package runstate rebuilds graph runs from their DashStream messages: the
// logic shared by the browser dashboard and the server, pure Go with no I/O
// and no goroutines (it builds for linux and js/wasm alike).
//
// A Store holds one Run per thread_id. Store.Apply takes one decoded
// message (an EventBatch expands into its inner events, each with its own
// header) and returns an Outcome saying what happened to it and which runs
// changed, so that a caller commits a Kafka cursor only after its message was
// applied (Outcome.Committable, and never at or above Store.PendingFloor of
// the partition, where a message still waits) and re-renders only the runs
// that changed. Messages without a thread_id go to a bounded list
// (Store.Unbound), never into a run.
//
// # Ordering and dedupe
//
// Sequences are per thread; 0 means "not sequenced". Dedupe happens before
// any mutation: a sequenced message at or below the last processed sequence
// of its thread, or already waiting, mutates nothing; an unsequenced one is
// recognised by its message_id. Unsequenced messages never change a run's
// state: they are recorded as events (and feed tokens, tools, metrics and
// traces), and an unsequenced state change marks the state untrusted instead.
//
// Messages that arrive ahead of their turn wait in a small per-thread reorder
// window and are applied in sequence order when the missing ones arrive. When
// the window holds more than Config.ReorderWindow messages, or its oldest
// message has waited Config.ReorderMaxAge (Apply and Tick check it; the time is
// always passed in, never read from the clock), the hole is declared: that run,
// and only that run, gets a gap mark naming the missing range, and the waiting
// messages are applied. A new thread starts at sequence 1 at once; otherwise its
// first messages wait Config.BaselineWait for earlier ones (a GraphStart
// overtaken by its run's next messages) and the lowest is the baseline:
// joining a run mid-stream is not a gap, but its state stays "incomplete"
// until a full state, a checkpoint or a GraphStart initial state arrives.
//
// # State and integrity
//
// A run's state is an immutable protocol/jsontree tree. GraphStart's
// initial_state_json, a StateDiff full_state and a Checkpoint reset it;
// StateDiff operations are applied with protocol/jsonpatch; NodeStart and
// NodeEnd state_json/state attributes are merged into it member by member.
// After every applied change that carries a state_hash the hash is checked
// (statehash's canonical form and SHA-256), over number literals exactly as
// received, so 1.0 and integers above 2^53 never cause a false mismatch. Each
// run hashes along a statehash.Chain: the canonical text of subtrees
// unchanged since the last version is copied, not written (trees are
// immutable, so pointer identity is content identity), and the SHA-256
// resumes from a saved state at the first byte the text changed, so a small
// diff costs little of either.
//
// A failed patch, a hash mismatch, an unknown base_checkpoint_id, an unusable
// snapshot or checkpoint, or an unsequenced state change marks the run
// corrupted at once, with the sequence and a reason a person can read. A local
// hole, or a server gap or stale cursor reported through MarkQuarantined or
// QuarantineAll, gives a gap mark. While a run's state is untrusted, a
// state change is applied only when its state_hash proves the result right
// (which heals the run); otherwise the state stays as it was, flagged. The
// next full state or valid checkpoint always heals it. RunsNeedingReplay
// lists the runs a caller should ask the server to replay.
//
// # Time travel
//
// Every state change is kept either as a keyframe (a root pointer: trees share
// unchanged subtrees, so a keyframe costs only what changed) or as the patch
// that produced it. StateAt(seq) starts from the nearest keyframe at or below
// seq and replays the later patches, and gives exactly the state the live loop
// had right after applying seq.
//
// # Bounds
//
// Everything a Store keeps is bounded by Config (runs, events, keyframes and
// checkpoints per run, reorder windows, token text, tool calls, metrics,
// quarantine), and every stored string is truncated. Runs are evicted least
// recently active first, but a pinned run (the one on screen) never is.
//
// # Concurrency
//
// A Store is not safe for concurrent use: one goroutine (the browser's apply
// loop) owns it and everything it returns. Runs and slices it returns are
// read-only views that change on the next Apply; copy what must outlive it.
// State trees are immutable and may be shared freely.
package runstate
