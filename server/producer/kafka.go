package producer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// recordOverhead is an upper bound on what a one-record batch adds to the
// record's value and key: the v2 batch header (61 bytes), the record's
// length, attributes, deltas and length varints. The protobuf budget is
// MaxMessageBytes minus this, the key and the framing byte, so every batch
// the client builds fits MaxMessageBytes.
const recordOverhead = 128

// CRC32Partitioner returns the partition librdkafka's default partitioner
// (consistent_random) picks for a non-empty key: CRC-32 (IEEE) of the key
// modulo the partition count. Records of one thread land on the same
// partition whether a Go or a Rust producer wrote them.
func CRC32Partitioner(key []byte, partitions int) int {
	return int(crc32.ChecksumIEEE(key) % uint32(partitions))
}

// KafkaOptions returns the franz-go client options this producer needs:
// seed brokers, security, acks=all, idempotent writes (franz-go's default),
// the CRC-32 key partitioner, no Kafka-level compression (values are framed
// and compressed per message), batches of at most MaxMessageBytes, the
// delivery timeout, and buffer limits above the producer's own queue (which
// is what really bounds it). Use them to build a client shared with other
// code and pass it with WithClient; New uses them when it builds its own.
func (c Config) KafkaOptions() ([]kgo.Opt, error) {
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DefaultProduceTopic(c.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(CRC32Partitioner)),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(int32(c.MaxMessageBytes)),
		kgo.RecordDeliveryTimeout(c.DeliveryTimeout),
		kgo.ProducerLinger(5 * time.Millisecond), // librdkafka's linger.ms default
		// The producer's queue admits at most QueueCapacity records and
		// QueueMaxBytes bytes; the client's own limits sit above that (with
		// room for DLQ records) so it never refuses what the queue admitted.
		kgo.MaxBufferedRecords(c.QueueCapacity + dlqMaxInFlight + 16),
		kgo.MaxBufferedBytes(c.QueueMaxBytes + dlqMaxInFlight*c.MaxMessageBytes + c.MaxMessageBytes),
		kgo.ClientID("dashstream-producer"),
	}
	sec, err := c.securityOptions()
	if err != nil {
		return nil, err
	}
	return append(opts, sec...), nil
}

func (c Config) securityOptions() ([]kgo.Opt, error) {
	s := c.Security
	var opts []kgo.Opt
	network := "tcp"
	switch strings.ToLower(c.AddressFamily) {
	case "v4":
		network = "tcp4"
	case "v6":
		network = "tcp6"
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	var tlsCfg *tls.Config
	if s.usesTLS() {
		var err error
		if tlsCfg, err = s.tlsConfig(); err != nil {
			return nil, err
		}
	}
	if network != "tcp" || tlsCfg != nil {
		opts = append(opts, kgo.Dialer(func(ctx context.Context, _, host string) (net.Conn, error) {
			if tlsCfg == nil {
				return dialer.DialContext(ctx, network, host)
			}
			cfg := tlsCfg.Clone()
			if cfg.ServerName == "" {
				if h, _, err := net.SplitHostPort(host); err == nil {
					cfg.ServerName = h
				}
			}
			return (&tls.Dialer{NetDialer: dialer, Config: cfg}).DialContext(ctx, network, host)
		}))
	}
	if s.usesSASL() {
		switch strings.ToUpper(s.SASLMechanism) {
		case "", "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: s.SASLUsername, Pass: s.SASLPassword}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.SASLUsername, Pass: s.SASLPassword}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.SASLUsername, Pass: s.SASLPassword}.AsSha512Mechanism()))
		}
	}
	return opts, nil
}

// tlsConfig builds the TLS settings: the CA file (or the system roots), the
// client certificate, and host name verification unless the endpoint
// identification algorithm is "none", in which case the chain is still
// verified.
func (s Security) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	var roots *x509.CertPool
	if s.CALocation != "" {
		pemBytes, err := os.ReadFile(s.CALocation)
		if err != nil {
			return nil, &ConfigError{Setting: "Security.CALocation", Reason: err.Error()}
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemBytes) {
			return nil, &ConfigError{Setting: "Security.CALocation", Reason: "no PEM certificate in " + s.CALocation}
		}
		cfg.RootCAs = roots
	}
	if s.CertificateLocation != "" {
		keyPEM, err := os.ReadFile(s.KeyLocation)
		if err != nil {
			return nil, &ConfigError{Setting: "Security.KeyLocation", Reason: err.Error()}
		}
		if block, _ := pem.Decode(keyPEM); block != nil && (strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] != "") {
			return nil, &ConfigError{Setting: "Security.KeyLocation", Reason: "the key is encrypted; decrypt it (e.g. openssl pkey) and drop the key password"}
		}
		certPEM, err := os.ReadFile(s.CertificateLocation)
		if err != nil {
			return nil, &ConfigError{Setting: "Security.CertificateLocation", Reason: err.Error()}
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, &ConfigError{Setting: "Security.CertificateLocation", Reason: err.Error()}
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if strings.EqualFold(s.EndpointIdentificationAlgorithm, "none") {
		// Verify the chain against the roots, but not the host name.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("producer: broker sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return cfg, nil
}
