//go:build !(js && wasm)

package session

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// httpGet fetches url; the browser build uses fetch instead (fetch_js.go).
func httpGet(ctx context.Context, url string, limit int) (status int, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > limit {
		return 0, nil, fmt.Errorf("response over the %d-byte limit", limit)
	}
	return resp.StatusCode, body, nil
}
