package runsummary

// The JSON answers of the gateway's run catalog API, shared by the server
// that writes them and the dashboard that reads them.

// Page is the answer of `GET /api/runs`: runs newest first.
type Page struct {
	Runs []Summary `json:"runs"`
	// Next continues after the last run (the next parameter of the
	// following request); empty when there is no more.
	Next string `json:"next,omitempty"`
	// Total counts every run matching the filters, on all pages.
	Total int `json:"total"`
	// Building is set while the gateway still reads the history Kafka
	// retains after a start: older runs may be missing for a moment.
	Building bool `json:"building"`
}

// GraphStats aggregates the runs of one graph (or of all graphs) in a
// window.
type GraphStats struct {
	// Graph is the graph name ("" for runs whose graph is unknown, and in
	// the total).
	Graph string `json:"graph"`
	Runs  int    `json:"runs"`
	// Running, Completed and Failed count runs by how far they got
	// (Outcome), incomplete ones included; Incomplete counts the runs whose
	// start is not retained.
	Running    int `json:"running"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	Incomplete int `json:"incomplete"`
	// FailureRate is Failed / (Completed + Failed); 0 when none finished.
	FailureRate float64 `json:"failure_rate"`
	// P50Ms and P95Ms are duration percentiles (nearest rank) of the
	// finished runs whose start is retained; 0 when there is none.
	P50Ms int64 `json:"p50_duration_ms"`
	P95Ms int64 `json:"p95_duration_ms"`
	// LastStartedAt is when the newest run started.
	LastStartedAt Time `json:"last_started_at"`
	// LLMCalls, Tokens, CostUSD (priced calls only) and ToolCalls add up
	// the runs' usage.
	LLMCalls  int     `json:"llm_calls"`
	Tokens    uint64  `json:"tokens"`
	CostUSD   float64 `json:"cost_usd"`
	ToolCalls int     `json:"tool_calls"`
}

// Graphs is the answer of `GET /api/graphs`.
type Graphs struct {
	// Graphs lists each graph, most runs first.
	Graphs []GraphStats `json:"graphs"`
	// Total aggregates every graph.
	Total GraphStats `json:"total"`
	// Since and Until echo the window (null: unbounded).
	Since    Time `json:"since"`
	Until    Time `json:"until"`
	Building bool `json:"building"`
}
