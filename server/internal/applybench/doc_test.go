// Package applybench measures the dashboard's apply loop (decode, apply,
// hash verify) compiled to WebAssembly beside a JavaScript peer, in the
// same headless Chromium, on the same recorded streams. It holds tests and
// benchmarks only; ./wasmloop is our side's page program, web/ the pages
// and the peer.
//
//	go test -run '^$' -bench ApplyLoop_Browser ./server/internal/applybench/
//
// TestApplyLoop_BothSidesAgreeOnTheRecordedStreams (in make test) checks
// that both sides do the same work; APPLYBENCH_PROFILE=1 adds Chromium
// profiles of both sides to the benchmark's output (=N lists N functions);
// APPLYBENCH_ONLY=demo measures only the streams whose name starts so;
// APPLYBENCH_BASE=<another checkout> adds that checkout's loop, for a
// before/after in the same browser and run.
package applybench
