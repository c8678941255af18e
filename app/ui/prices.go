package ui

import (
	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// PriceSource is implemented by a Source that knows the gateway's LLM
// prices: the run page prices each call with them (the same table the
// server prices its run catalog with), and shows tokens without a cost
// until they arrive or when there are none.
type PriceSource interface {
	Prices() *pricing.Table
}

// pricesOf returns src's prices, nil when it has none.
func pricesOf(src Source) *pricing.Table {
	if ps, ok := src.(PriceSource); ok {
		return ps.Prices()
	}
	return nil
}

// builtinPrices prices the runs a tab summarises itself until the
// gateway's table has arrived, so their cost does not blink in.
var builtinPrices = pricing.Builtin()

// listPrices returns the table that prices the list rows of runs this tab
// holds (the catalog's rows come priced by the server, with the same table).
func listPrices(src Source) *pricing.Table {
	if t := pricesOf(src); t != nil {
		return t
	}
	return builtinPrices
}

// pricedSummaries returns the summaries of the runs s holds, priced with
// prices: the live rows the lists lay over the catalog's. Call it under
// Source.Read.
func pricedSummaries(s *runstate.Store, prices *pricing.Table) []runsummary.Summary {
	runs := s.Runs()
	out := make([]runsummary.Summary, 0, len(runs))
	for _, r := range runs {
		sum := r.Summary()
		out = append(out, sum.Priced(prices))
	}
	return out
}
