package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/dashstream/dashstream/protocol"
)

// serverVersion is what the session uses of /version.
type serverVersion struct {
	Version         string
	Namespace       string
	SchemaVersion   uint32
	MaxPayloadBytes int
}

// ErrBadResponse: /version or /health answered, but not with what a
// DashStream gateway sends.
var ErrBadResponse = errors.New("session: unexpected server response")

// getJSON fetches a small JSON document (at most 1 MiB).
func getJSON(ctx context.Context, url string, timeout time.Duration) (gjson.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status, body, err := httpGet(ctx, url, 1<<20)
	if err != nil {
		return gjson.Result{}, fmt.Errorf("GET %s: %w", url, err)
	}
	if status != 200 || !gjson.ValidBytes(body) {
		return gjson.Result{}, fmt.Errorf("%w: GET %s: status %d", ErrBadResponse, url, status)
	}
	return gjson.ParseBytes(body), nil
}

// fetchVersion reads /version.
func fetchVersion(ctx context.Context, base string, timeout time.Duration) (serverVersion, error) {
	doc, err := getJSON(ctx, strings.TrimRight(base, "/")+"/version", timeout)
	if err != nil {
		return serverVersion{}, err
	}
	v := serverVersion{
		Version:         firstString(doc, "version", "git_sha", "implementation"),
		Namespace:       doc.Get("resume_namespace").String(),
		SchemaVersion:   uint32(doc.Get("schema_version").Uint()),
		MaxPayloadBytes: int(doc.Get("max_payload_bytes").Int()),
	}
	if v.MaxPayloadBytes <= 0 || v.MaxPayloadBytes > 64<<20 {
		v.MaxPayloadBytes = protocol.DefaultMaxPayloadBytes
	}
	return v, nil
}

// schemaMismatch is the sentence the status bar shows when the server's
// schema differs from the one this dashboard was built for, "" otherwise.
func schemaMismatch(server uint32) string {
	if server == 0 || server == protocol.SchemaVersion {
		return ""
	}
	return fmt.Sprintf("The server speaks DashStream schema version %d; this dashboard was built for version %d. Fields it does not know are ignored, so some details may be missing.", server, protocol.SchemaVersion)
}

// forwardedCount reads how many records the server has forwarded in total
// from /health (messages_forwarded, else kafka_messages_received).
func forwardedCount(doc gjson.Result) (uint64, bool) {
	for _, path := range []string{"metrics.messages_forwarded", "metrics.kafka_messages_received"} {
		if r := doc.Get(path); r.Exists() {
			return r.Uint(), true
		}
	}
	return 0, false
}

// firstString returns the first non-empty string member of doc among
// paths (our gateway publishes git_sha, upstream a version).
func firstString(doc gjson.Result, paths ...string) string {
	for _, p := range paths {
		if v := doc.Get(p).String(); v != "" {
			return v
		}
	}
	return ""
}
