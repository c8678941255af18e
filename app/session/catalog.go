package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// CatalogRuns fetches a page of the gateway's run catalog (`GET
// /api/runs`): the history every list starts from.
func (s *Session) CatalogRuns(ctx context.Context, q catalog.Query) (runsummary.Page, error) {
	b, missing, err := s.apiGet(ctx, q.Path())
	if missing {
		err = ErrNoCatalog
	}
	if err != nil {
		return runsummary.Page{}, err
	}
	return catalog.DecodePage(b)
}

// ErrNoCatalog: the server answers /api/runs with 404 (an upstream
// websocket-server behind the proxy mode keeps no run catalog).
var ErrNoCatalog = errors.New("the server keeps no run catalog")

// CatalogRun fetches one run's catalog row; found is false when the
// gateway retains no run of that thread.
func (s *Session) CatalogRun(ctx context.Context, thread string) (sum runsummary.Summary, found bool, err error) {
	b, notFound, err := s.apiGet(ctx, catalog.RunPath(thread))
	if notFound || err != nil {
		return runsummary.Summary{}, false, err
	}
	sum, err = catalog.DecodeSummary(b)
	return sum, err == nil, err
}

// CatalogGraphs fetches the per-graph aggregates of the catalog's window.
func (s *Session) CatalogGraphs(ctx context.Context) (runsummary.Graphs, error) {
	b, missing, err := s.apiGet(ctx, catalog.GraphsPath)
	if missing {
		err = ErrNoCatalog
	}
	if err != nil {
		return runsummary.Graphs{}, err
	}
	return catalog.DecodeGraphs(b)
}

// apiGet fetches a catalog answer; a 404 is reported as notFound, any
// other failure as an error with the server's reason when it gave one.
func (s *Session) apiGet(ctx context.Context, path string) (body []byte, notFound bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	url := strings.TrimRight(s.cfg.BaseURL, "/") + path
	status, body, err := httpGet(ctx, url, catalog.MaxAnswerBytes)
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("GET %s: %w", path, err)
	case status == http.StatusNotFound:
		return nil, true, nil
	case status != http.StatusOK:
		why := gjson.GetBytes(body, "error").String()
		if why == "" {
			why = http.StatusText(status)
		}
		return nil, false, fmt.Errorf("%w: GET %s: %d %s", ErrBadResponse, path, status, why)
	}
	return body, false, nil
}
