package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/dashstream/dashstream/server/config"
)

// ClientOpts maps the upstream KAFKA_SECURITY_PROTOCOL, SASL, SSL and
// address-family settings onto franz-go options, so every Kafka client of the
// gateway (consumer, DLQ, deep replay) connects the same way. Files are read
// now: a missing CA or key fails at start, naming the setting.
func ClientOpts(sec config.KafkaSecurity) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	var tlsCfg *tls.Config
	if sec.Protocol == "ssl" || sec.Protocol == "sasl_ssl" {
		var err error
		if tlsCfg, err = tlsConfig(sec); err != nil {
			return nil, err
		}
	}
	network := "tcp"
	switch sec.AddressFamily {
	case "v4":
		network = "tcp4"
	case "v6":
		network = "tcp6"
	}
	// One dialer for every case: franz-go's DialTLSConfig cannot be combined
	// with a custom dialer, and the address family needs one.
	opts = append(opts, kgo.Dialer(func(ctx context.Context, _, host string) (net.Conn, error) {
		d := &net.Dialer{Timeout: 10 * time.Second}
		if tlsCfg == nil {
			return d.DialContext(ctx, network, host)
		}
		cfg := tlsCfg.Clone()
		if cfg.ServerName == "" {
			if h, _, err := net.SplitHostPort(host); err == nil {
				cfg.ServerName = h
			}
		}
		return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, network, host)
	}))
	if strings.HasPrefix(sec.Protocol, "sasl") {
		switch sec.SASLMechanism {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: sec.SASLUsername, Pass: sec.SASLPassword}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: sec.SASLUsername, Pass: sec.SASLPassword}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: sec.SASLUsername, Pass: sec.SASLPassword}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("KAFKA_SASL_MECHANISM: %q is not supported", sec.SASLMechanism)
		}
	}
	return opts, nil
}

func tlsConfig(sec config.KafkaSecurity) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if sec.CALocation != "" {
		pem, err := os.ReadFile(sec.CALocation)
		if err != nil {
			return nil, fmt.Errorf("KAFKA_SSL_CA_LOCATION: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("KAFKA_SSL_CA_LOCATION: %s holds no PEM certificate", sec.CALocation)
		}
		cfg.RootCAs = pool
	}
	if sec.CertLocation != "" {
		cert, err := loadKeyPair(sec.CertLocation, sec.KeyLocation, sec.KeyPassword)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if sec.EndpointAlgo == "none" {
		// librdkafka's ssl.endpoint.identification.algorithm=none: verify the
		// chain but not the host name.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("kafka broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return cfg, nil
}

func loadKeyPair(certFile, keyFile, password string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("KAFKA_SSL_CERTIFICATE_LOCATION: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("KAFKA_SSL_KEY_LOCATION: %w", err)
	}
	if password != "" {
		block, _ := pem.Decode(keyPEM)
		//nolint:staticcheck // legacy encrypted PEM keys are what librdkafka's ssl.key.password reads.
		if block != nil && x509.IsEncryptedPEMBlock(block) {
			der, err := x509.DecryptPEMBlock(block, []byte(password)) //nolint:staticcheck
			if err != nil {
				return tls.Certificate{}, fmt.Errorf("KAFKA_SSL_KEY_PASSWORD: %w", err)
			}
			keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("KAFKA_SSL_CERTIFICATE_LOCATION / KAFKA_SSL_KEY_LOCATION: %w", err)
	}
	return cert, nil
}
