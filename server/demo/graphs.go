package demo

import (
	"github.com/dashstream/dashstream/server/producer"
)

// shape is how a graph runs: which edges exist and how the runner walks
// them.
type shape int

const (
	shapeLinear      shape = iota // a chain of nodes
	shapeConditional              // a router picks one of several branches
	shapeParallel                 // a fan-out of branches that run at once, then a fan-in
	shapeLoop                     // a critic sends the work back until it passes
)

// graph is one demo graph: its schema (what the dashboard draws) and the
// roles the runner needs.
type graph struct {
	shape  shape
	schema producer.GraphSchema
	// branches are the router's targets (conditional) or the fan-out's
	// members (parallel).
	branches []string
}

func node(name, typ, desc string, in, out []string) producer.SchemaNode {
	return producer.SchemaNode{Name: name, NodeType: typ, Description: desc, InputFields: in, OutputFields: out, Attributes: map[string]string{}}
}

func edge(from, to, typ string) producer.SchemaEdge {
	return producer.SchemaEdge{From: from, To: to, EdgeType: typ}
}

// graphs are the four demo graphs, 5 to 7 nodes each, together using every
// node type the dashboard knows.
var graphs = []graph{
	{
		shape: shapeLinear,
		schema: producer.GraphSchema{
			Name: "research_assistant", Version: "1.0.0", EntryPoint: "ingest_question",
			Description: "Answers a research question from retrieved documents, with a fact check.",
			StateType:   "ResearchState",
			Nodes: []producer.SchemaNode{
				node("ingest_question", producer.NodeTransform, "Normalises the question", []string{"question"}, []string{"messages"}),
				node("retrieve_documents", producer.NodeTool, "Searches the document index", []string{"question"}, []string{"documents"}),
				node("rank_results", producer.NodeAggregator, "Ranks and deduplicates hits", []string{"documents"}, []string{"documents", "scores"}),
				node("draft_answer", producer.NodeLLM, "Writes the answer with citations", []string{"documents", "messages"}, []string{"answer", "messages"}),
				node("fact_check", producer.NodeValidator, "Checks every claim against the sources", []string{"answer", "documents"}, []string{"scores"}),
				node("save_checkpoint", producer.NodeCheckpoint, "Persists the run", []string{"*"}, []string{}),
			},
			Edges: []producer.SchemaEdge{
				edge("ingest_question", "retrieve_documents", producer.EdgeDirect),
				edge("retrieve_documents", "rank_results", producer.EdgeDirect),
				edge("rank_results", "draft_answer", producer.EdgeDirect),
				edge("draft_answer", "fact_check", producer.EdgeDirect),
				edge("fact_check", "save_checkpoint", producer.EdgeDirect),
			},
			Metadata: map[string]string{"owner": "demo", "team": "research"},
		},
	},
	{
		shape:    shapeConditional,
		branches: []string{"billing_agent", "technical_agent", "escalate_to_human"},
		schema: producer.GraphSchema{
			Name: "support_triage", Version: "2.3.0", EntryPoint: "classify_ticket",
			Description: "Routes a support ticket to an agent or a human, then replies.",
			StateType:   "TicketState",
			Nodes: []producer.SchemaNode{
				node("classify_ticket", producer.NodeRouter, "Classifies the ticket", []string{"ticket"}, []string{"route"}),
				node("billing_agent", producer.NodeLLM, "Answers billing questions", []string{"ticket"}, []string{"messages"}),
				node("technical_agent", producer.NodeLLM, "Answers technical questions", []string{"ticket"}, []string{"messages"}),
				node("escalate_to_human", producer.NodeHumanInLoop, "Waits for an operator", []string{"ticket"}, []string{"messages"}),
				node("compose_reply", producer.NodeLLM, "Writes the reply", []string{"messages"}, []string{"reply"}),
				node("quality_gate", producer.NodeValidator, "Scores the reply", []string{"reply"}, []string{"scores"}),
			},
			Edges: []producer.SchemaEdge{
				{From: "classify_ticket", To: "billing_agent", EdgeType: producer.EdgeConditional, Label: "billing",
					ConditionalTargets: []string{"billing_agent", "technical_agent", "escalate_to_human"}},
				{From: "classify_ticket", To: "technical_agent", EdgeType: producer.EdgeConditional, Label: "technical"},
				{From: "classify_ticket", To: "escalate_to_human", EdgeType: producer.EdgeConditional, Label: "angry customer"},
				edge("billing_agent", "compose_reply", producer.EdgeDirect),
				edge("technical_agent", "compose_reply", producer.EdgeDirect),
				edge("escalate_to_human", "compose_reply", producer.EdgeDirect),
				edge("compose_reply", "quality_gate", producer.EdgeDirect),
			},
			Metadata: map[string]string{"owner": "demo", "team": "support"},
		},
	},
	{
		shape:    shapeParallel,
		branches: []string{"search_news", "search_filings", "search_social"},
		schema: producer.GraphSchema{
			Name: "market_research", Version: "0.9.1", EntryPoint: "plan_queries",
			Description: "Searches three sources at once and writes a market report.",
			StateType:   "MarketState",
			Nodes: []producer.SchemaNode{
				node("plan_queries", producer.NodeLLM, "Plans the searches", []string{"topic"}, []string{"queries"}),
				node("search_news", producer.NodeTool, "News search", []string{"queries"}, []string{"findings"}),
				node("search_filings", producer.NodeTool, "Regulatory filings search", []string{"queries"}, []string{"findings"}),
				node("search_social", producer.NodeTool, "Social media search", []string{"queries"}, []string{"findings"}),
				node("merge_findings", producer.NodeAggregator, "Merges the findings", []string{"findings"}, []string{"summary"}),
				node("write_report", producer.NodeLLM, "Writes the report", []string{"summary"}, []string{"report"}),
				node("publish", producer.NodeCustom, "Publishes the report", []string{"report"}, []string{"published_url"}),
			},
			Edges: []producer.SchemaEdge{
				edge("plan_queries", "search_news", producer.EdgeParallel),
				edge("plan_queries", "search_filings", producer.EdgeParallel),
				edge("plan_queries", "search_social", producer.EdgeParallel),
				edge("search_news", "merge_findings", producer.EdgeDirect),
				edge("search_filings", "merge_findings", producer.EdgeDirect),
				edge("search_social", "merge_findings", producer.EdgeDirect),
				edge("merge_findings", "write_report", producer.EdgeDirect),
				edge("write_report", "publish", producer.EdgeDirect),
			},
			Metadata: map[string]string{"owner": "demo", "team": "strategy"},
		},
	},
	{
		shape: shapeLoop,
		schema: producer.GraphSchema{
			Name: "essay_refiner", Version: "1.2.0", EntryPoint: "outline",
			Description: "Drafts an essay and revises it until the critic is satisfied.",
			StateType:   "EssayState",
			Nodes: []producer.SchemaNode{
				node("outline", producer.NodeLLM, "Outlines the essay", []string{"topic"}, []string{"outline"}),
				node("write_draft", producer.NodeLLM, "Writes a draft", []string{"outline"}, []string{"draft"}),
				node("critique", producer.NodeValidator, "Scores the draft", []string{"draft"}, []string{"scores"}),
				node("revise_plan", producer.NodeTransform, "Turns the critique into a plan", []string{"scores"}, []string{"outline"}),
				node("finalize", producer.NodeTransform, "Formats the final essay", []string{"draft"}, []string{"essay"}),
			},
			Edges: []producer.SchemaEdge{
				edge("outline", "write_draft", producer.EdgeDirect),
				edge("write_draft", "critique", producer.EdgeDirect),
				{From: "critique", To: "revise_plan", EdgeType: producer.EdgeConditional, Label: "score below 0.80"},
				{From: "critique", To: "finalize", EdgeType: producer.EdgeConditional, Label: "passed"},
				edge("revise_plan", "write_draft", producer.EdgeDirect),
			},
			Metadata: map[string]string{"owner": "demo", "team": "writing"},
		},
	},
}

// Graphs returns the schemas of the demo graphs.
func Graphs() []producer.GraphSchema {
	out := make([]producer.GraphSchema, len(graphs))
	for i, g := range graphs {
		out[i] = g.schema
	}
	return out
}

// nodeType returns the node type of name in g.
func (g *graph) nodeType(name string) string {
	for _, n := range g.schema.Nodes {
		if n.Name == name {
			return n.NodeType
		}
	}
	return producer.NodeCustom
}
