package producer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by FromEnv. The upstream names come first
// (producer note §12); the DASHSTREAM_PRODUCER_* ones are this producer's
// own, for settings upstream only has in code.
const (
	EnvBrokers          = "KAFKA_BROKERS"
	EnvBootstrapServers = "KAFKA_BOOTSTRAP_SERVERS" // fallback for KAFKA_BROKERS
	EnvTopic            = "KAFKA_TOPIC"
	EnvTopicFallback    = "DASHSTREAM_TOPIC" // fallback for KAFKA_TOPIC
	EnvTenantID         = "KAFKA_TENANT_ID"
	EnvSecurityProtocol = "KAFKA_SECURITY_PROTOCOL"
	EnvSASLMechanism    = "KAFKA_SASL_MECHANISM"
	EnvSASLUsername     = "KAFKA_SASL_USERNAME"
	EnvSASLPassword     = "KAFKA_SASL_PASSWORD"
	EnvSSLCALocation    = "KAFKA_SSL_CA_LOCATION"
	EnvSSLCertLocation  = "KAFKA_SSL_CERTIFICATE_LOCATION"
	EnvSSLKeyLocation   = "KAFKA_SSL_KEY_LOCATION"
	EnvSSLKeyPassword   = "KAFKA_SSL_KEY_PASSWORD"
	EnvSSLEndpointAlgo  = "KAFKA_SSL_ENDPOINT_ALGORITHM"
	EnvAddressFamily    = "KAFKA_BROKER_ADDRESS_FAMILY"
	EnvStateRedact      = "DASHFLOW_STATE_REDACT"
	EnvFlushTimeoutSecs = "DASHFLOW_FLUSH_TIMEOUT_SECS"

	EnvMaxMessageBytes     = "DASHSTREAM_PRODUCER_MAX_MESSAGE_BYTES"
	EnvCheckpointInterval  = "DASHSTREAM_PRODUCER_CHECKPOINT_INTERVAL"
	EnvQueueCapacity       = "DASHSTREAM_PRODUCER_QUEUE_CAPACITY"
	EnvDeliveryTimeoutSecs = "DASHSTREAM_PRODUCER_DELIVERY_TIMEOUT_SECS"
	EnvDLQTopic            = "DASHSTREAM_PRODUCER_DLQ_TOPIC"
	EnvStateDiff           = "DASHSTREAM_PRODUCER_STATE_DIFF"
)

// FromEnv returns DefaultConfig changed by the process environment; see
// ConfigFromEnv.
func FromEnv() (Config, error) { return ConfigFromEnv(os.Getenv) }

// ConfigFromEnv returns DefaultConfig changed by the variables getenv
// returns (an empty value counts as unset), then validated. An invalid value
// is an error naming the variable.
//
// As upstream, DASHFLOW_STATE_REDACT turns redaction off only for "false" or
// "0" (any case); every other value, "no" and "off" included, keeps it on.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, &ConfigError{Setting: name, Reason: fmt.Sprintf(format, args...)})
	}
	get := func(names ...string) (string, string) {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return n, v
			}
		}
		return "", ""
	}
	if name, v := get(EnvBrokers, EnvBootstrapServers); v != "" {
		c.Brokers = splitList(v)
		if len(c.Brokers) == 0 {
			bad(name, "no broker in %q", v)
		}
	}
	if _, v := get(EnvTopic, EnvTopicFallback); v != "" {
		c.Topic = v
	}
	if _, v := get(EnvTenantID); v != "" {
		c.TenantID = v
	}
	s := &c.Security
	if _, v := get(EnvSecurityProtocol); v != "" {
		s.Protocol = strings.ToLower(v)
	}
	if _, v := get(EnvSASLMechanism); v != "" {
		s.SASLMechanism = strings.ToUpper(v)
	}
	s.SASLUsername = getenv(EnvSASLUsername)
	s.SASLPassword = getenv(EnvSASLPassword)
	_, s.CALocation = get(EnvSSLCALocation)
	_, s.CertificateLocation = get(EnvSSLCertLocation)
	_, s.KeyLocation = get(EnvSSLKeyLocation)
	s.KeyPassword = getenv(EnvSSLKeyPassword)
	if name, v := get(EnvSSLEndpointAlgo); name != "" {
		s.EndpointIdentificationAlgorithm = strings.ToLower(v)
	}
	if _, v := get(EnvAddressFamily); v != "" {
		c.AddressFamily = strings.ToLower(v)
	}
	if _, v := get(EnvStateRedact); v != "" {
		c.DisableRedaction = strings.EqualFold(v, "false") || v == "0"
	}
	if name, v := get(EnvStateDiff); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			bad(name, "%q is not a boolean", v)
		}
		c.DisableStateDiff = !on
	}
	if name, v := get(EnvFlushTimeoutSecs); v != "" {
		if n, err := strconv.ParseUint(v, 10, 32); err != nil || n == 0 {
			bad(name, "%q is not a positive number of seconds", v)
		} else {
			c.FlushTimeout = time.Duration(n) * time.Second
		}
	}
	if name, v := get(EnvDeliveryTimeoutSecs); v != "" {
		if n, err := strconv.ParseUint(v, 10, 32); err != nil || n == 0 {
			bad(name, "%q is not a positive number of seconds", v)
		} else {
			c.DeliveryTimeout = time.Duration(n) * time.Second
		}
	}
	intVar := func(name string, dst *int, min int) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				bad(name, "%q is not an integer >= %d", v, min)
				return
			}
			*dst = n
		}
	}
	intVar(EnvMaxMessageBytes, &c.MaxMessageBytes, minMaxMessageBytes)
	intVar(EnvCheckpointInterval, &c.CheckpointInterval, 0)
	intVar(EnvQueueCapacity, &c.QueueCapacity, 1)
	if _, v := get(EnvDLQTopic); v != "" {
		c.DLQTopic = v
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if err := c.Validate(); err != nil {
		return c, envNames(err)
	}
	return c, nil
}

// envNames rewrites the field names of Validate's errors into the variables
// a user of FromEnv sets.
func envNames(err error) error {
	fieldToEnv := map[string]string{
		"Brokers":                EnvBrokers,
		"Topic":                  EnvTopic,
		"TenantID":               EnvTenantID,
		"MaxMessageBytes":        EnvMaxMessageBytes,
		"QueueCapacity":          EnvQueueCapacity,
		"DeliveryTimeout":        EnvDeliveryTimeoutSecs,
		"AddressFamily":          EnvAddressFamily,
		"Security.Protocol":      EnvSecurityProtocol,
		"Security.SASLMechanism": EnvSASLMechanism,
		"Security.SASLUsername":  EnvSASLUsername + "/" + EnvSASLPassword,
		"Security.EndpointIdentificationAlgorithm": EnvSSLEndpointAlgo,
		"Security.CertificateLocation":             EnvSSLCertLocation + "/" + EnvSSLKeyLocation,
	}
	var out []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		var ce *ConfigError
		if errors.As(e, &ce) {
			if env, ok := fieldToEnv[ce.Setting]; ok {
				out = append(out, &ConfigError{Setting: env, Reason: ce.Reason})
				return
			}
		}
		out = append(out, e)
	}
	walk(err)
	return errors.Join(out...)
}

// splitList splits a comma list, trimming spaces and dropping empties.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
