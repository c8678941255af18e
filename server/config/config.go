// Package config is the gateway's configuration: every setting is a flag
// with an environment variable, honouring the upstream websocket-server's
// variable names so an upstream deployment can swap binaries. Flags win over
// the environment; an invalid value is an error naming the setting, never a
// silent fallback.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/dashstream/dashstream/protocol/pricing"
)

// Config is the effective configuration.
type Config struct {
	// HTTP
	Host   string
	Port   int
	WebDir string
	// AllowedHosts are Host patterns accepted besides loopback names, IP
	// addresses and the machine's name (the DNS-rebinding guard).
	AllowedHosts      []string
	HTTPMaxConnsPerIP int
	HTTPMaxConns      int
	HTTPBodyTimeout   time.Duration
	HTTPWriteStall    time.Duration

	// Kafka
	Brokers   []string // empty: embedded broker
	Topic     string
	GroupID   string // only part of the resume namespace: no consumer group is used
	ClusterID string
	// NamespaceIncarnation puts the log's incarnation in the resume namespace.
	NamespaceIncarnation bool
	AutoOffsetReset      string // earliest | latest
	DecodeErrorPolicy    string // skip | pause
	DLQTopic             string // "" disables the DLQ
	DLQIncludePayload    bool
	OldDataUseTime       bool
	OldDataGrace         time.Duration
	Security             KafkaSecurity

	// Embedded broker
	DataDir            string
	EmbeddedPartitions int
	EmbeddedRetention  time.Duration
	EmbeddedMaxBytes   int64 // per partition

	// Replay store
	RedisURL          string
	RedisTTL          time.Duration
	RedisMaxSequences int
	MemoryRecords     int
	MemoryBytes       int64
	ReplayTimeout     time.Duration
	ReplayMaxTotal    int
	MaxPayloadBytes   int

	// WebSocket clients
	ClientQueue         int
	SendTimeout         time.Duration
	SlowClientThreshold int64 // 0 disables
	SlowClientWindow    time.Duration
	MaxConnectionsPerIP int
	TrustedProxies      []string
	AllowedOrigins      []string
	AuthToken           string
	AdminToken          string

	// Run catalog (issue 10)
	CatalogMaxRuns int

	// Demo and proxy
	Demo        string // auto | on | off
	DemoSeed    int64
	DemoRate    float64 // runs per minute
	Upstream    string  // ws://host:port of an upstream websocket-server: proxy mode
	SchemasPath string

	// Replay work per client (server/hub)
	ReplayRatePerClient int // records a second one connection may replay; 0: unlimited

	// LLM prices (issue 11): the built-in table, merged with the file
	// PricesPath names ("" for none); served at /api/prices.
	PricesPath string
	Prices     *pricing.Table

	// Build information, set by main.
	GitSHA, BuildDate string

	effective map[string]string
}

// KafkaSecurity holds the upstream KAFKA_SECURITY_PROTOCOL / SASL / SSL settings.
type KafkaSecurity struct {
	Protocol      string // plaintext | ssl | sasl_plaintext | sasl_ssl
	SASLMechanism string // PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
	SASLUsername  string
	SASLPassword  string
	CALocation    string
	CertLocation  string
	KeyLocation   string
	KeyPassword   string
	EndpointAlgo  string // https | none
	AddressFamily string // any | v4 | v6
}

// Embedded reports whether the gateway runs its own in-process broker.
func (c *Config) Embedded() bool { return len(c.Brokers) == 0 && c.Upstream == "" }

// LoopbackOnly reports whether the server listens on loopback only.
func (c *Config) LoopbackOnly() bool {
	if c.Host == "localhost" {
		return true
	}
	ip := net.ParseIP(c.Host)
	return ip != nil && ip.IsLoopback()
}

// Proxy reports whether the gateway relays an upstream websocket-server.
func (c *Config) Proxy() bool { return c.Upstream != "" }

// DemoEnabled reports whether the demo producer runs: by default only on the
// embedded broker.
func (c *Config) DemoEnabled() bool {
	switch c.Demo {
	case "on":
		return !c.Proxy()
	case "off":
		return false
	}
	return c.Embedded()
}

// Effective returns every setting by its primary environment variable name,
// with secrets masked: logged once at start and published in /version.
func (c *Config) Effective() map[string]string {
	out := make(map[string]string, len(c.effective))
	for k, v := range c.effective {
		out[k] = v
	}
	return out
}

// ErrHelp is returned by Load for -h or --help: print Usage.
var ErrHelp = errors.New("help requested")

// Load reads flags from args and defaults from getenv.
func Load(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{effective: map[string]string{}}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := make([]*string, len(settings))
	for i, s := range settings {
		def := s.def
		for _, e := range s.env {
			if v := getenv(e); v != "" {
				def = v
				break
			}
		}
		values[i] = fs.String(s.flag, def, s.help+" ("+strings.Join(s.env, ", ")+")")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, fmt.Errorf("flags: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("flags: unexpected argument %q", fs.Arg(0))
	}
	for i, s := range settings {
		v := strings.TrimSpace(*values[i])
		if err := s.apply(c, v); err != nil {
			return nil, fmt.Errorf("%s / --%s: %w", s.env[0], s.flag, err)
		}
		shown := v
		if s.secret && v != "" {
			shown = "***"
		}
		if s.flag == "redis-url" {
			shown = maskURL(v)
		}
		c.effective[s.env[0]] = shown
	}
	switch c.DLQTopic {
	case "":
		c.DLQTopic = c.Topic + "-dlq"
	case "off":
		c.DLQTopic = ""
	}
	c.effective["KAFKA_DLQ_TOPIC"] = c.DLQTopic
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Usage lists every setting with its flag, environment variables and default.
func Usage() string {
	var b strings.Builder
	sorted := append([]setting(nil), settings...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].flag < sorted[j].flag })
	for _, s := range sorted {
		fmt.Fprintf(&b, "  --%s (%s, default %q)\n      %s\n", s.flag, strings.Join(s.env, ", "), s.def, s.help)
	}
	return b.String()
}

// validate checks combinations of settings.
func (c *Config) validate() error {
	sec := c.Security
	if strings.HasPrefix(sec.Protocol, "sasl") {
		if sec.SASLMechanism == "" {
			return errors.New("KAFKA_SASL_MECHANISM: required when KAFKA_SECURITY_PROTOCOL is " + sec.Protocol)
		}
		if (sec.SASLUsername == "") != (sec.SASLPassword == "") || sec.SASLUsername == "" {
			return errors.New("KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD: both are required with SASL")
		}
	}
	if (sec.CertLocation == "") != (sec.KeyLocation == "") {
		return errors.New("KAFKA_SSL_CERTIFICATE_LOCATION / KAFKA_SSL_KEY_LOCATION: set both or neither")
	}
	if c.Upstream != "" && len(c.Brokers) > 0 {
		return errors.New("DASHSTREAM_UPSTREAM / --upstream: proxy mode relays an upstream gateway and cannot also read KAFKA_BROKERS")
	}
	if c.Demo == "on" && c.Proxy() {
		return errors.New("DASHSTREAM_DEMO / --demo: the demo needs a Kafka (embedded or KAFKA_BROKERS), not proxy mode")
	}
	return nil
}

// MaskURL hides the password of a URL, also of one that does not parse
// (a "%" in the password, say), so that no message ever carries it.
func MaskURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if u.User == nil {
			return raw
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "***")
		}
		return u.String()
	}
	// Unparsable: mask by hand whatever stands between "://" and the last
	// "@" of the authority.
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		if strings.Contains(raw, "@") {
			return "***"
		}
		return raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		user = "***"
	} else {
		user += ":***"
	}
	return scheme + "://" + user + rest[at:]
}

func maskURL(raw string) string { return MaskURL(raw) }
