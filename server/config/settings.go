package config

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dashstream/dashstream/protocol/pricing"
)

// setting defines one configuration value: its flag, its environment
// variables (the first is the upstream or primary name), default, and how it
// is parsed into Config.
type setting struct {
	flag   string
	env    []string
	def    string
	help   string
	secret bool
	apply  func(c *Config, v string) error
}

var settings = []setting{
	// HTTP
	{flag: "host", env: []string{"WEBSOCKET_HOST"}, def: "0.0.0.0", help: "listen address",
		apply: func(c *Config, v string) error {
			if v != "localhost" && net.ParseIP(v) == nil {
				return fmt.Errorf("%q is not an IP address or localhost", v)
			}
			c.Host = v
			return nil
		}},
	{flag: "port", env: []string{"WEBSOCKET_PORT"}, def: "8080", help: "listen port",
		apply: func(c *Config, v string) (err error) { c.Port, err = intIn(v, 1, 65535); return }},
	{flag: "allowed-hosts", env: []string{"DASHSTREAM_ALLOWED_HOSTS"}, def: "", help: "Host names the server answers to besides loopback names, IP addresses and this machine's name (patterns like dash.example.com, *.corp, name:port; * allows any): others get 421 on /ws and /api, and on every route when listening on loopback (DNS-rebinding guard)",
		apply: func(c *Config, v string) error { c.AllowedHosts = list(v); return nil }},
	{flag: "http-max-connections-per-ip", env: []string{"DASHSTREAM_HTTP_MAX_CONNECTIONS_PER_IP"}, def: "64", help: "concurrent HTTP connections per client IP, upgraded WebSockets not counted (answered 429 beyond)",
		apply: func(c *Config, v string) (err error) { c.HTTPMaxConnsPerIP, err = intIn(v, 1, 1_000_000); return }},
	{flag: "http-max-connections", env: []string{"DASHSTREAM_HTTP_MAX_CONNECTIONS"}, def: "1024", help: "concurrent HTTP connections in all, upgraded WebSockets not counted (answered 503 beyond)",
		apply: func(c *Config, v string) (err error) { c.HTTPMaxConns, err = intIn(v, 1, 10_000_000); return }},
	{flag: "http-body-timeout", env: []string{"DASHSTREAM_HTTP_BODY_TIMEOUT_SECS"}, def: "30", help: "seconds a client may take to send a request body",
		apply: func(c *Config, v string) (err error) { c.HTTPBodyTimeout, err = seconds(v, 1); return }},
	{flag: "http-write-stall", env: []string{"DASHSTREAM_HTTP_WRITE_STALL_SECS"}, def: "20", help: "seconds a response may make no progress (the client acknowledges no byte) before it is cut off",
		apply: func(c *Config, v string) (err error) { c.HTTPWriteStall, err = seconds(v, 1); return }},
	{flag: "web-dir", env: []string{"DASHSTREAM_WEB_DIR"}, def: "web", help: "folder with app.wasm and the static assets, relative to the working directory",
		apply: func(c *Config, v string) error { c.WebDir = v; return nonEmpty(v) }},

	// Kafka
	{flag: "kafka-brokers", env: []string{"KAFKA_BROKERS"}, def: "", help: "comma-separated Kafka brokers; empty runs an embedded broker",
		apply: func(c *Config, v string) error { c.Brokers = list(v); return nil }},
	{flag: "kafka-topic", env: []string{"KAFKA_TOPIC"}, def: "dashstream-events", help: "topic carrying DashStream records (upstream producers default to dashstream-events)",
		apply: func(c *Config, v string) error { c.Topic = v; return nonEmpty(v) }},
	{flag: "kafka-group-id", env: []string{"KAFKA_GROUP_ID"}, def: "websocket-server-v4", help: "part of the resume namespace only: every instance reads every partition without a consumer group",
		apply: func(c *Config, v string) error { c.GroupID = v; return nonEmpty(v) }},
	{flag: "kafka-cluster-id", env: []string{"KAFKA_CLUSTER_ID"}, def: "", help: "non-empty switches the resume namespace to v2",
		apply: func(c *Config, v string) error { c.ClusterID = v; return nil }},
	{flag: "namespace-incarnation", env: []string{"DASHSTREAM_NAMESPACE_INCARNATION"}, def: "true", help: "put the log's incarnation (the topic's id; the embedded log's own id) in the resume namespace, so cursors of a recreated or damaged log are stale; false (real Kafka only) keeps upstream's namespace exactly, to share a Redis with upstream servers",
		apply: func(c *Config, v string) (err error) { c.NamespaceIncarnation, err = boolean(v); return }},
	{flag: "kafka-auto-offset-reset", env: []string{"KAFKA_AUTO_OFFSET_RESET"}, def: "earliest", help: "where to start a partition the replay store knows nothing of: earliest or latest",
		apply: func(c *Config, v string) (err error) { c.AutoOffsetReset, err = oneOf(v, "earliest", "latest"); return }},
	{flag: "on-decode-error", env: []string{"KAFKA_ON_DECODE_ERROR"}, def: "skip", help: "skip a record that does not decode (after the DLQ) or pause its partition",
		apply: func(c *Config, v string) (err error) {
			c.DecodeErrorPolicy, err = oneOf(strings.ToLower(v), "skip", "pause")
			return
		}},
	{flag: "kafka-dlq-topic", env: []string{"KAFKA_DLQ_TOPIC"}, def: "", help: "dead-letter topic for undecodable records (default <topic>-dlq; \"off\" disables)",
		apply: func(c *Config, v string) error { c.DLQTopic = v; return nil }},
	{flag: "dlq-include-payload", env: []string{"DLQ_INCLUDE_FULL_PAYLOAD"}, def: "false", help: "include the (bounded) payload in DLQ records",
		apply: func(c *Config, v string) (err error) { c.DLQIncludePayload, err = boolean(v); return }},
	{flag: "old-data-use-timestamp", env: []string{"KAFKA_OLD_DATA_USE_TIMESTAMP"}, def: "false", help: "classify catch-up records as old by timestamp instead of offset",
		apply: func(c *Config, v string) (err error) { c.OldDataUseTime, err = boolean(v); return }},
	{flag: "old-data-grace", env: []string{"KAFKA_OLD_DATA_GRACE_SECONDS"}, def: "30", help: "seconds before start-up that still count as new data (timestamp mode)",
		apply: func(c *Config, v string) (err error) { c.OldDataGrace, err = seconds(v, 0); return }},
	{flag: "kafka-security-protocol", env: []string{"KAFKA_SECURITY_PROTOCOL"}, def: "plaintext", help: "plaintext, ssl, sasl_plaintext or sasl_ssl",
		apply: func(c *Config, v string) (err error) {
			c.Security.Protocol, err = oneOf(strings.ToLower(v), "plaintext", "ssl", "sasl_plaintext", "sasl_ssl")
			return
		}},
	{flag: "kafka-sasl-mechanism", env: []string{"KAFKA_SASL_MECHANISM"}, def: "", help: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
		apply: func(c *Config, v string) (err error) {
			if v == "" {
				return nil
			}
			c.Security.SASLMechanism, err = oneOf(strings.ToUpper(v), "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
			return
		}},
	{flag: "kafka-sasl-username", env: []string{"KAFKA_SASL_USERNAME"}, def: "", help: "SASL user",
		apply: func(c *Config, v string) error { c.Security.SASLUsername = v; return nil }},
	{flag: "kafka-sasl-password", env: []string{"KAFKA_SASL_PASSWORD"}, def: "", help: "SASL password", secret: true,
		apply: func(c *Config, v string) error { c.Security.SASLPassword = v; return nil }},
	{flag: "kafka-ssl-ca-location", env: []string{"KAFKA_SSL_CA_LOCATION"}, def: "", help: "PEM file of CA certificates",
		apply: func(c *Config, v string) error { c.Security.CALocation = v; return nil }},
	{flag: "kafka-ssl-certificate-location", env: []string{"KAFKA_SSL_CERTIFICATE_LOCATION"}, def: "", help: "PEM client certificate",
		apply: func(c *Config, v string) error { c.Security.CertLocation = v; return nil }},
	{flag: "kafka-ssl-key-location", env: []string{"KAFKA_SSL_KEY_LOCATION"}, def: "", help: "PEM client key",
		apply: func(c *Config, v string) error { c.Security.KeyLocation = v; return nil }},
	{flag: "kafka-ssl-key-password", env: []string{"KAFKA_SSL_KEY_PASSWORD"}, def: "", help: "password of an encrypted client key", secret: true,
		apply: func(c *Config, v string) error { c.Security.KeyPassword = v; return nil }},
	{flag: "kafka-ssl-endpoint-algorithm", env: []string{"KAFKA_SSL_ENDPOINT_ALGORITHM"}, def: "https", help: "https verifies the broker host name; none does not",
		apply: func(c *Config, v string) (err error) {
			c.Security.EndpointAlgo, err = oneOf(strings.ToLower(v), "https", "none", "")
			return
		}},
	{flag: "kafka-broker-address-family", env: []string{"KAFKA_BROKER_ADDRESS_FAMILY"}, def: "any", help: "any, v4 or v6",
		apply: func(c *Config, v string) (err error) {
			c.Security.AddressFamily, err = oneOf(strings.ToLower(v), "any", "v4", "v6")
			return
		}},

	// Embedded broker
	{flag: "data-dir", env: []string{"DASHSTREAM_DATA_DIR"}, def: "data", help: "where the embedded broker keeps its log (relative to the working directory)",
		apply: func(c *Config, v string) error { c.DataDir = v; return nonEmpty(v) }},
	{flag: "embedded-partitions", env: []string{"DASHSTREAM_EMBEDDED_PARTITIONS"}, def: "4", help: "partitions of the embedded topic",
		apply: func(c *Config, v string) (err error) { c.EmbeddedPartitions, err = intIn(v, 1, 1024); return }},
	{flag: "embedded-retention", env: []string{"DASHSTREAM_EMBEDDED_RETENTION_SECS"}, def: "3600", help: "seconds of history the embedded broker keeps",
		apply: func(c *Config, v string) (err error) { c.EmbeddedRetention, err = seconds(v, 60); return }},
	{flag: "embedded-max-bytes", env: []string{"DASHSTREAM_EMBEDDED_MAX_BYTES"}, def: "268435456", help: "bytes of history the embedded broker keeps per partition",
		apply: func(c *Config, v string) (err error) { c.EmbeddedMaxBytes, err = int64In(v, 1<<20, 1<<40); return }},

	// Replay
	{flag: "redis-url", env: []string{"REDIS_URL"}, def: "", help: "Redis replay store shared by instances (redis://…); empty keeps replay in memory",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
				return fmt.Errorf("%q is not a redis:// or rediss:// URL", maskURL(v))
			}
			c.RedisURL = v
			return nil
		}},
	{flag: "redis-ttl", env: []string{"REDIS_MESSAGE_TTL_SECS"}, def: "3600", help: "seconds a record stays in Redis",
		apply: func(c *Config, v string) (err error) { c.RedisTTL, err = seconds(v, 1); return }},
	{flag: "redis-max-sequences", env: []string{"REDIS_MAX_SEQUENCES"}, def: "10000", help: "records kept per partition and per thread in Redis",
		apply: func(c *Config, v string) (err error) { c.RedisMaxSequences, err = intIn(v, 1, 10_000_000); return }},
	{flag: "replay-memory-records", env: []string{"REPLAY_BUFFER_MEMORY_SIZE"}, def: "20000", help: "records kept in the in-memory replay ring",
		apply: func(c *Config, v string) (err error) { c.MemoryRecords, err = intIn(v, 1, 100_000_000); return }},
	{flag: "replay-memory-bytes", env: []string{"DASHSTREAM_REPLAY_MEMORY_BYTES"}, def: "134217728", help: "bytes of values kept in the in-memory replay ring",
		apply: func(c *Config, v string) (err error) { c.MemoryBytes, err = int64In(v, 1<<20, 1<<40); return }},
	{flag: "replay-timeout", env: []string{"REPLAY_TIMEOUT_SECS"}, def: "30", help: "seconds a resume may take before the client is told REPLAY_TIMEOUT",
		apply: func(c *Config, v string) (err error) { c.ReplayTimeout, err = seconds(v, 1); return }},
	{flag: "replay-max-total", env: []string{"REPLAY_MAX_TOTAL"}, def: "10000", help: "records one resume may replay before it is capped",
		apply: func(c *Config, v string) (err error) { c.ReplayMaxTotal, err = intIn(v, 1, 100_000_000); return }},
	{flag: "max-payload-bytes", env: []string{"WEBSOCKET_MAX_PAYLOAD_BYTES"}, def: "10485760", help: "largest Kafka value (and decompressed protobuf) forwarded",
		apply: func(c *Config, v string) (err error) { c.MaxPayloadBytes, err = intIn(v, 1024, 1<<30); return }},

	// Clients
	{flag: "client-queue", env: []string{"WEBSOCKET_BUFFER_SIZE"}, def: "1024", help: "live records queued per client before it must catch up from the replay store",
		apply: func(c *Config, v string) (err error) { c.ClientQueue, err = intIn(v, 1, 1_000_000); return }},
	{flag: "send-timeout", env: []string{"WEBSOCKET_SEND_TIMEOUT_SECS"}, def: "5", help: "seconds any single send to a client may take",
		apply: func(c *Config, v string) (err error) { c.SendTimeout, err = seconds(v, 1); return }},
	{flag: "slow-client-threshold", env: []string{"SLOW_CLIENT_DISCONNECT_THRESHOLD"}, def: "1000", help: "records a client may fall behind within the window before it is disconnected (0 disables)",
		apply: func(c *Config, v string) (err error) { c.SlowClientThreshold, err = int64In(v, 0, 1<<40); return }},
	{flag: "slow-client-window", env: []string{"SLOW_CLIENT_LAG_WINDOW_SECS"}, def: "60", help: "seconds of the slow-client window (0: the connection's lifetime)",
		apply: func(c *Config, v string) (err error) { c.SlowClientWindow, err = seconds(v, 0); return }},
	{flag: "max-connections-per-ip", env: []string{"WEBSOCKET_MAX_CONNECTIONS_PER_IP"}, def: "10", help: "concurrent WebSocket connections per client IP (answered 429 beyond)",
		apply: func(c *Config, v string) (err error) { c.MaxConnectionsPerIP, err = intIn(v, 1, 1_000_000); return }},
	{flag: "trusted-proxies", env: []string{"WEBSOCKET_TRUSTED_PROXY_IPS"}, def: "", help: "comma-separated proxy IPs whose X-Forwarded-For is believed",
		apply: func(c *Config, v string) error {
			c.TrustedProxies = list(v)
			for _, ip := range c.TrustedProxies {
				if net.ParseIP(ip) == nil {
					return fmt.Errorf("%q is not an IP address", ip)
				}
			}
			return nil
		}},
	{flag: "allowed-origins", env: []string{"DASHSTREAM_ALLOWED_ORIGINS"}, def: "", help: "extra Origin host patterns allowed on /ws (same origin and localhost always are), e.g. dash.example.com,*.corp",
		apply: func(c *Config, v string) error { c.AllowedOrigins = list(v); return nil }},
	{flag: "auth-token", env: []string{"DASHSTREAM_AUTH_TOKEN"}, def: "", help: "bearer token required on /ws (query token= or subprotocol bearer.<token>)", secret: true,
		apply: func(c *Config, v string) error { c.AuthToken = v; return token(v) }},
	{flag: "admin-token", env: []string{"DASHSTREAM_ADMIN_TOKEN"}, def: "", help: "token that lets cursor_reset clear the shared replay store", secret: true,
		apply: func(c *Config, v string) error { c.AdminToken = v; return token(v) }},

	// Run catalog (issue 10)
	{flag: "catalog-max-runs", env: []string{"DASHSTREAM_CATALOG_MAX_RUNS"}, def: "100000", help: "runs the run catalog (GET /api/runs) keeps; past it the earliest started are dropped",
		apply: func(c *Config, v string) (err error) { c.CatalogMaxRuns, err = intIn(v, 1, 10_000_000); return }},

	// Demo, proxy, schemas
	{flag: "demo", env: []string{"DASHSTREAM_DEMO"}, def: "auto", help: "demo runs: auto (on with the embedded broker), on, off",
		apply: func(c *Config, v string) (err error) {
			c.Demo, err = oneOf(strings.ToLower(v), "auto", "on", "off")
			return
		}},
	{flag: "demo-seed", env: []string{"DASHSTREAM_DEMO_SEED"}, def: "0", help: "seed of the demo runs (same seed, same runs and thread ids; 0 picks one at start)",
		apply: func(c *Config, v string) (err error) {
			c.DemoSeed, err = strconv.ParseInt(v, 10, 64)
			return wrapNum(err)
		}},
	{flag: "demo-rate", env: []string{"DASHSTREAM_DEMO_RATE"}, def: "12", help: "demo runs started per minute",
		apply: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 6000 {
				return fmt.Errorf("%q is not a rate in (0, 6000] runs per minute", v)
			}
			c.DemoRate = f
			return nil
		}},
	{flag: "upstream", env: []string{"DASHSTREAM_UPSTREAM"}, def: "", help: "ws://host:port of an upstream websocket-server to relay (proxy mode)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
				return fmt.Errorf("%q is not a ws:// or wss:// URL", v)
			}
			c.Upstream = strings.TrimRight(v, "/")
			return nil
		}},
	{flag: "schemas-path", env: []string{"EXPECTED_SCHEMAS_PATH"}, def: "data/expected_schemas.json", help: "file the expected-schema API persists to",
		apply: func(c *Config, v string) error { c.SchemasPath = v; return nonEmpty(v) }},

	// Replay work per client (server/hub)
	{flag: "replay-rate-per-client", env: []string{"REPLAY_RATE_PER_CLIENT"}, def: "20000",
		help:  "records a second one WebSocket connection may replay (resumes, and the continuation of a capped replay; each request also counts as 100); a request beyond it waits and the client is told (0: unlimited)",
		apply: func(c *Config, v string) (err error) { c.ReplayRatePerClient, err = intIn(v, 0, 100_000_000); return }},

	// LLM prices (issue 11)
	{flag: "prices", env: []string{"DASHSTREAM_PRICES"}, def: "", help: `JSON file of LLM prices in USD per million tokens, {"model": {"input_per_million": 2.5, "output_per_million": 10}}, overriding and extending the built-in table`,
		apply: func(c *Config, v string) error {
			c.PricesPath, c.Prices = v, pricing.Builtin()
			return loadPrices(c, v)
		}},
}

// loadPrices merges the price file at path into c.Prices (the built-in
// table); a file that cannot be read or parsed stops the start.
func loadPrices(c *Config, path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, pricing.MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > pricing.MaxFileBytes {
		return fmt.Errorf("%s: over %d bytes", path, pricing.MaxFileBytes)
	}
	over, err := pricing.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.Prices = c.Prices.Merge(over)
	return nil
}

func nonEmpty(v string) error {
	if v == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func intIn(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not an integer in [%d, %d]", v, lo, hi)
	}
	return n, nil
}

func int64In(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not an integer in [%d, %d]", v, lo, hi)
	}
	return n, nil
}

func seconds(v string, min int) (time.Duration, error) {
	n, err := intIn(v, min, 365*24*3600)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number of seconds ≥ %d", v, min)
	}
	return time.Duration(n) * time.Second, nil
}

func boolean(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false)", v)
}

func oneOf(v string, allowed ...string) (string, error) {
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

func token(v string) error {
	for _, r := range v {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("tokens must be printable ASCII without spaces")
		}
	}
	return nil
}

func wrapNum(err error) error {
	if err != nil {
		return fmt.Errorf("not an integer: %w", err)
	}
	return nil
}
