package session

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dashstream/dashstream/protocol/pricing"
)

// PricesPath is where the gateway serves its effective LLM price table.
const PricesPath = "/api/prices"

// pricesRetry is how long a failed fetch of the price table waits before
// the next use tries again.
const pricesRetry = 30 * time.Second

// Prices is the gateway's LLM price table (GET /api/prices), fetched once
// in the background on first use so that the run page prices each call
// with the table the server prices its run catalog with. A failed fetch is
// tried again on a later use, no sooner than pricesRetry.
type Prices struct {
	url     string
	timeout time.Duration

	mu       sync.Mutex
	table    *pricing.Table
	fetching bool
	failedAt time.Time
	err      error
}

// NewPrices returns the price table of the gateway at baseURL (the page's
// origin when empty).
func NewPrices(baseURL string) *Prices {
	if baseURL == "" {
		baseURL = pageOrigin()
	}
	return &Prices{url: strings.TrimRight(baseURL, "/") + PricesPath, timeout: 10 * time.Second}
}

// Table returns the price table, nil until it has arrived (callers then
// show tokens without a cost); the first call starts the fetch.
func (p *Prices) Table() *pricing.Table {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.table == nil && !p.fetching && (p.failedAt.IsZero() || time.Since(p.failedAt) >= pricesRetry) {
		p.fetching = true
		go p.fetch()
	}
	return p.table
}

// Err returns why the last fetch failed, nil when none did.
func (p *Prices) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *Prices) fetch() {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	t, err := fetchPrices(ctx, p.url)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetching = false
	if err != nil {
		p.failedAt, p.err = time.Now(), err
		return
	}
	p.table, p.err = t, nil
}

func fetchPrices(ctx context.Context, url string) (*pricing.Table, error) {
	status, body, err := httpGet(ctx, url, pricing.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if status != 200 {
		return nil, fmt.Errorf("%w: GET %s: status %d", ErrBadResponse, url, status)
	}
	t, err := pricing.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return t, nil
}

// Prices returns the gateway's price table, nil until it has arrived (the
// first call starts fetching it).
func (s *Session) Prices() *pricing.Table {
	s.pricesOnce.Do(func() { s.prices = NewPrices(s.cfg.BaseURL) })
	return s.prices.Table()
}
