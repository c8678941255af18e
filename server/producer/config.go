package producer

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults. The Kafka ones are the upstream producer's (producer note §12).
const (
	DefaultBrokers         = "localhost:9092"
	DefaultTopic           = "dashstream-events"
	DefaultTenantID        = "default"
	DefaultMaxMessageBytes = 1 << 20 // upstream max_message_size
	DefaultQueueCapacity   = 10_000
	DefaultQueueMaxBytes   = 64 << 20
	DefaultDeliveryTimeout = 30 * time.Second // upstream message.timeout.ms
	DefaultFlushTimeout    = 5 * time.Second  // upstream flush_timeout_secs
	// DefaultDLQMaxPayloadBytes bounds the payload copied into a DLQ record
	// (upstream: 512 KiB).
	DefaultDLQMaxPayloadBytes = 512 << 10

	// minMaxMessageBytes keeps room for a GraphStart stripped to its
	// essentials.
	minMaxMessageBytes = 1 << 10
)

// Config is everything the producer needs: one struct, filled by
// DefaultConfig or FromEnv and adjusted by the caller. Zero numeric fields
// take their defaults in New.
type Config struct {
	// Brokers are the Kafka seed brokers (host:port).
	Brokers []string
	// Topic receives every message (upstream default dashstream-events).
	Topic string
	// TenantID is the default header tenant_id of runs.
	TenantID string

	// MaxMessageBytes is the one size limit every other budget derives from:
	// no Kafka record batch this producer writes is larger, so a broker or
	// topic with max.message.bytes >= MaxMessageBytes accepts everything.
	// The encoded protobuf of a message gets what is left after the framing
	// byte, the key and the record overhead.
	MaxMessageBytes int
	// DisableStateDiff turns state streaming off: no initial state, no
	// StateDiff and no Checkpoint is emitted (upstream enable_state_diff).
	DisableStateDiff bool
	// CheckpointInterval > 0 emits a Checkpoint after every that many state
	// updates of a run (upstream checkpoint_interval; 0 = off).
	CheckpointInterval int
	// DisableRedaction turns secret redaction off (DASHFLOW_STATE_REDACT=false).
	// Redaction is on by default for every user-content string.
	DisableRedaction bool

	// QueueCapacity bounds the records accepted but not yet acknowledged or
	// failed, across all runs of this producer. A message that finds the
	// queue full is dropped and counted, never waited for.
	QueueCapacity int
	// QueueMaxBytes bounds the bytes of those records.
	QueueMaxBytes int
	// DeliveryTimeout is how long a record may wait for the broker before it
	// fails (upstream message.timeout.ms, 30 s).
	DeliveryTimeout time.Duration
	// FlushTimeout bounds Flush and Close when their context has no deadline
	// (upstream flush_timeout_secs, 5 s).
	FlushTimeout time.Duration

	// DLQTopic, if set, receives a JSON forensic record for each message that
	// failed to send (upstream dashstream-dlq). Empty disables the DLQ.
	DLQTopic string
	// DLQMaxPayloadBytes bounds the original payload kept in a DLQ record
	// (default 512 KiB, and never more than fits in MaxMessageBytes).
	DLQMaxPayloadBytes int

	// Security holds TLS and SASL settings.
	Security Security
	// AddressFamily restricts broker connections to "v4" or "v6"; "" or
	// "any" uses both (KAFKA_BROKER_ADDRESS_FAMILY).
	AddressFamily string
}

// Security is the connection security of the Kafka client, with the upstream
// variable names noted per field.
type Security struct {
	// Protocol is plaintext, ssl, sasl_plaintext or sasl_ssl
	// (KAFKA_SECURITY_PROTOCOL, default plaintext).
	Protocol string
	// SASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	// (KAFKA_SASL_MECHANISM). GSSAPI and OAUTHBEARER are refused.
	SASLMechanism string
	// SASLUsername and SASLPassword go together (KAFKA_SASL_USERNAME,
	// KAFKA_SASL_PASSWORD).
	SASLUsername string
	SASLPassword string
	// CALocation is a PEM file of trusted CAs (KAFKA_SSL_CA_LOCATION); empty
	// uses the system roots.
	CALocation string
	// CertificateLocation and KeyLocation are a PEM client certificate and
	// key (KAFKA_SSL_CERTIFICATE_LOCATION, KAFKA_SSL_KEY_LOCATION).
	CertificateLocation string
	KeyLocation         string
	// KeyPassword is accepted for compatibility (KAFKA_SSL_KEY_PASSWORD);
	// encrypted PEM keys are refused, decrypt the key file instead.
	KeyPassword string
	// EndpointIdentificationAlgorithm is "https" (verify the broker's host
	// name, the default) or "none" (verify the chain only)
	// (KAFKA_SSL_ENDPOINT_ALGORITHM).
	EndpointIdentificationAlgorithm string
}

// Security protocols.
const (
	ProtocolPlaintext     = "plaintext"
	ProtocolSSL           = "ssl"
	ProtocolSASLPlaintext = "sasl_plaintext"
	ProtocolSASLSSL       = "sasl_ssl"
)

// DefaultConfig returns the upstream defaults: localhost:9092, topic
// dashstream-events, tenant default, 1 MiB messages, redaction on, state
// diffs on, checkpoints and DLQ off.
func DefaultConfig() Config {
	return Config{
		Brokers:            []string{DefaultBrokers},
		Topic:              DefaultTopic,
		TenantID:           DefaultTenantID,
		MaxMessageBytes:    DefaultMaxMessageBytes,
		QueueCapacity:      DefaultQueueCapacity,
		QueueMaxBytes:      DefaultQueueMaxBytes,
		DeliveryTimeout:    DefaultDeliveryTimeout,
		FlushTimeout:       DefaultFlushTimeout,
		DLQMaxPayloadBytes: DefaultDLQMaxPayloadBytes,
		Security:           Security{Protocol: ProtocolPlaintext, EndpointIdentificationAlgorithm: "https"},
	}
}

// ConfigError names the setting that is wrong.
type ConfigError struct {
	// Setting is the field or environment variable.
	Setting string
	// Reason says what is wrong with it.
	Reason string
}

// Error names the setting and the reason.
func (e *ConfigError) Error() string { return "producer: invalid " + e.Setting + ": " + e.Reason }

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if len(c.Brokers) == 0 {
		c.Brokers = d.Brokers
	}
	if c.Topic == "" {
		c.Topic = d.Topic
	}
	if c.TenantID == "" {
		c.TenantID = d.TenantID
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.QueueCapacity == 0 {
		c.QueueCapacity = d.QueueCapacity
	}
	if c.QueueMaxBytes == 0 {
		c.QueueMaxBytes = d.QueueMaxBytes
	}
	if c.DeliveryTimeout == 0 {
		c.DeliveryTimeout = d.DeliveryTimeout
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = d.FlushTimeout
	}
	if c.DLQMaxPayloadBytes == 0 {
		c.DLQMaxPayloadBytes = d.DLQMaxPayloadBytes
	}
	if c.Security.Protocol == "" {
		c.Security.Protocol = ProtocolPlaintext
	}
	c.Security.Protocol = strings.ToLower(c.Security.Protocol)
	if c.Security.EndpointIdentificationAlgorithm == "" {
		c.Security.EndpointIdentificationAlgorithm = "https"
	}
	return c
}

// Validate reports the first invalid setting, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, &ConfigError{Setting: setting, Reason: fmt.Sprintf(format, args...)})
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" {
			bad("Brokers", "empty broker address")
		}
	}
	if strings.TrimSpace(c.Topic) == "" {
		bad("Topic", "empty")
	}
	if strings.TrimSpace(c.TenantID) == "" {
		bad("TenantID", "empty")
	}
	if c.MaxMessageBytes < minMaxMessageBytes || c.MaxMessageBytes > 1<<30 {
		bad("MaxMessageBytes", "%d is outside %d..%d", c.MaxMessageBytes, minMaxMessageBytes, 1<<30)
	}
	if c.CheckpointInterval < 0 {
		bad("CheckpointInterval", "%d is negative", c.CheckpointInterval)
	}
	if c.QueueCapacity < 1 {
		bad("QueueCapacity", "%d is below 1", c.QueueCapacity)
	}
	if c.QueueMaxBytes < c.MaxMessageBytes {
		bad("QueueMaxBytes", "%d is below MaxMessageBytes (%d)", c.QueueMaxBytes, c.MaxMessageBytes)
	}
	if c.DeliveryTimeout < time.Second {
		bad("DeliveryTimeout", "%v is below 1s (the Kafka client's minimum)", c.DeliveryTimeout)
	}
	if c.FlushTimeout < 0 {
		bad("FlushTimeout", "%v is negative", c.FlushTimeout)
	}
	if c.DLQMaxPayloadBytes < 0 {
		bad("DLQMaxPayloadBytes", "%d is negative", c.DLQMaxPayloadBytes)
	}
	switch strings.ToLower(c.AddressFamily) {
	case "", "any", "v4", "v6":
	default:
		bad("AddressFamily", "%q is not any, v4 or v6", c.AddressFamily)
	}
	if err := c.Security.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s Security) validate() error {
	switch s.Protocol {
	case ProtocolPlaintext, ProtocolSSL, ProtocolSASLPlaintext, ProtocolSASLSSL:
	default:
		return &ConfigError{Setting: "Security.Protocol", Reason: fmt.Sprintf("%q is not plaintext, ssl, sasl_plaintext or sasl_ssl", s.Protocol)}
	}
	if (s.SASLUsername == "") != (s.SASLPassword == "") {
		return &ConfigError{Setting: "Security.SASLUsername", Reason: "username and password must be set together"}
	}
	if s.usesSASL() {
		switch strings.ToUpper(s.SASLMechanism) {
		case "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		case "GSSAPI", "OAUTHBEARER":
			return &ConfigError{Setting: "Security.SASLMechanism", Reason: s.SASLMechanism + " is not supported by this producer (use PLAIN or SCRAM)"}
		default:
			return &ConfigError{Setting: "Security.SASLMechanism", Reason: fmt.Sprintf("unknown mechanism %q", s.SASLMechanism)}
		}
		if s.SASLUsername == "" {
			return &ConfigError{Setting: "Security.SASLUsername", Reason: "SASL needs a username and password"}
		}
	}
	switch strings.ToLower(s.EndpointIdentificationAlgorithm) {
	case "https", "none":
	default:
		return &ConfigError{Setting: "Security.EndpointIdentificationAlgorithm", Reason: fmt.Sprintf("%q is not https or none", s.EndpointIdentificationAlgorithm)}
	}
	if (s.CertificateLocation == "") != (s.KeyLocation == "") {
		return &ConfigError{Setting: "Security.CertificateLocation", Reason: "certificate and key must be set together"}
	}
	return nil
}

func (s Security) usesSASL() bool {
	return s.Protocol == ProtocolSASLPlaintext || s.Protocol == ProtocolSASLSSL
}

func (s Security) usesTLS() bool {
	return s.Protocol == ProtocolSSL || s.Protocol == ProtocolSASLSSL
}

// LogValue lists the effective settings for the start-up log, the password
// masked.
func (c Config) LogValue() slog.Value {
	c = c.withDefaults()
	attrs := []slog.Attr{
		slog.String("brokers", strings.Join(c.Brokers, ",")),
		slog.String("topic", c.Topic),
		slog.String("tenant_id", c.TenantID),
		slog.Int("max_message_bytes", c.MaxMessageBytes),
		slog.Bool("state_diff", !c.DisableStateDiff),
		slog.Int("checkpoint_interval", c.CheckpointInterval),
		slog.Bool("redaction", !c.DisableRedaction),
		slog.Int("queue_capacity", c.QueueCapacity),
		slog.Int("queue_max_bytes", c.QueueMaxBytes),
		slog.Duration("delivery_timeout", c.DeliveryTimeout),
		slog.String("dlq_topic", c.DLQTopic),
		slog.String("security_protocol", c.Security.Protocol),
	}
	if c.Security.usesSASL() {
		attrs = append(attrs,
			slog.String("sasl_mechanism", c.Security.SASLMechanism),
			slog.String("sasl_username", c.Security.SASLUsername),
			slog.String("sasl_password", mask(c.Security.SASLPassword)))
	}
	return slog.GroupValue(attrs...)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}
