package producer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestConfigFromEnv_ReadsTheUpstreamVariables, with their fallbacks and
// upstream's quirks (DASHFLOW_STATE_REDACT turns off only for false/0).
func TestConfigFromEnv_ReadsTheUpstreamVariables(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"defaults", nil, func(t *testing.T, c Config) {
			if strings.Join(c.Brokers, ",") != "localhost:9092" || c.Topic != "dashstream-events" || c.TenantID != "default" ||
				c.DisableRedaction || c.DisableStateDiff || c.MaxMessageBytes != 1<<20 || c.FlushTimeout != 5*time.Second || c.DLQTopic != "" {
				t.Errorf("%+v", c)
			}
		}},
		{"KAFKA_BROKERS trimmed, empties dropped", map[string]string{"KAFKA_BROKERS": " a:1, ,b:2 ,"}, func(t *testing.T, c Config) {
			if strings.Join(c.Brokers, ",") != "a:1,b:2" {
				t.Errorf("brokers %v", c.Brokers)
			}
		}},
		{"KAFKA_BOOTSTRAP_SERVERS is the fallback", map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "c:3"}, func(t *testing.T, c Config) {
			if strings.Join(c.Brokers, ",") != "c:3" {
				t.Errorf("brokers %v", c.Brokers)
			}
		}},
		{"KAFKA_TOPIC wins over DASHSTREAM_TOPIC", map[string]string{"KAFKA_TOPIC": "t1", "DASHSTREAM_TOPIC": "t2"}, func(t *testing.T, c Config) {
			if c.Topic != "t1" {
				t.Errorf("topic %s", c.Topic)
			}
		}},
		{"DASHSTREAM_TOPIC alone", map[string]string{"DASHSTREAM_TOPIC": "t2", "KAFKA_TENANT_ID": "acme"}, func(t *testing.T, c Config) {
			if c.Topic != "t2" || c.TenantID != "acme" {
				t.Errorf("%+v", c)
			}
		}},
		{"redaction off with false", map[string]string{"DASHFLOW_STATE_REDACT": "FALSE"}, func(t *testing.T, c Config) {
			if !c.DisableRedaction {
				t.Error("still on")
			}
		}},
		{"redaction off with 0", map[string]string{"DASHFLOW_STATE_REDACT": "0"}, func(t *testing.T, c Config) {
			if !c.DisableRedaction {
				t.Error("still on")
			}
		}},
		{"redaction stays on with no/off (upstream semantics)", map[string]string{"DASHFLOW_STATE_REDACT": "off"}, func(t *testing.T, c Config) {
			if c.DisableRedaction {
				t.Error("turned off")
			}
		}},
		{"security settings", map[string]string{
			"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "scram-sha-512",
			"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p", "KAFKA_SSL_ENDPOINT_ALGORITHM": "none",
			"KAFKA_BROKER_ADDRESS_FAMILY": "V6",
		}, func(t *testing.T, c Config) {
			s := c.Security
			if s.Protocol != "sasl_plaintext" || s.SASLMechanism != "SCRAM-SHA-512" || s.SASLUsername != "u" || s.SASLPassword != "p" ||
				s.EndpointIdentificationAlgorithm != "none" || c.AddressFamily != "v6" {
				t.Errorf("%+v", c)
			}
			if v := c.LogValue().String(); strings.Contains(v, "=p ") || !strings.Contains(v, "***") {
				t.Errorf("password not masked in %s", v)
			}
		}},
		{"our own variables", map[string]string{
			"DASHSTREAM_PRODUCER_MAX_MESSAGE_BYTES": "65536", "DASHSTREAM_PRODUCER_CHECKPOINT_INTERVAL": "50",
			"DASHSTREAM_PRODUCER_QUEUE_CAPACITY": "100", "DASHSTREAM_PRODUCER_DELIVERY_TIMEOUT_SECS": "7",
			"DASHSTREAM_PRODUCER_DLQ_TOPIC": "dead", "DASHSTREAM_PRODUCER_STATE_DIFF": "false", "DASHFLOW_FLUSH_TIMEOUT_SECS": "9",
		}, func(t *testing.T, c Config) {
			if c.MaxMessageBytes != 65536 || c.CheckpointInterval != 50 || c.QueueCapacity != 100 || c.DeliveryTimeout != 7*time.Second ||
				c.DLQTopic != "dead" || !c.DisableStateDiff || c.FlushTimeout != 9*time.Second {
				t.Errorf("%+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestConfigFromEnv_RejectsBadValuesNamingTheVariable: malformed input fails
// fast, and the message says which variable to fix.
func TestConfigFromEnv_RejectsBadValuesNamingTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"KAFKA_BROKERS": ",,"}, "KAFKA_BROKERS"},
		{map[string]string{"KAFKA_SECURITY_PROTOCOL": "tls"}, "KAFKA_SECURITY_PROTOCOL"},
		{map[string]string{"KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}, "KAFKA_SASL_MECHANISM"},
		{map[string]string{"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "KAFKA_SASL_MECHANISM": "PLAIN"}, "KAFKA_SASL_USERNAME"},
		{map[string]string{"KAFKA_SASL_USERNAME": "only-user"}, "KAFKA_SASL_USERNAME"},
		{map[string]string{"KAFKA_SSL_ENDPOINT_ALGORITHM": "dns"}, "KAFKA_SSL_ENDPOINT_ALGORITHM"},
		{map[string]string{"KAFKA_SSL_CERTIFICATE_LOCATION": "/c.pem"}, "KAFKA_SSL_CERTIFICATE_LOCATION"},
		{map[string]string{"KAFKA_BROKER_ADDRESS_FAMILY": "ipx"}, "KAFKA_BROKER_ADDRESS_FAMILY"},
		{map[string]string{"DASHFLOW_FLUSH_TIMEOUT_SECS": "-1"}, "DASHFLOW_FLUSH_TIMEOUT_SECS"},
		{map[string]string{"DASHFLOW_FLUSH_TIMEOUT_SECS": "5s"}, "DASHFLOW_FLUSH_TIMEOUT_SECS"},
		{map[string]string{"DASHSTREAM_PRODUCER_MAX_MESSAGE_BYTES": "12"}, "DASHSTREAM_PRODUCER_MAX_MESSAGE_BYTES"},
		{map[string]string{"DASHSTREAM_PRODUCER_MAX_MESSAGE_BYTES": "1e6"}, "DASHSTREAM_PRODUCER_MAX_MESSAGE_BYTES"},
		{map[string]string{"DASHSTREAM_PRODUCER_QUEUE_CAPACITY": "0"}, "DASHSTREAM_PRODUCER_QUEUE_CAPACITY"},
		{map[string]string{"DASHSTREAM_PRODUCER_STATE_DIFF": "maybe"}, "DASHSTREAM_PRODUCER_STATE_DIFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConfigFromEnv(envOf(tt.env))
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.name) {
				t.Fatalf("error %v does not name %s", err, tt.name)
			}
		})
	}
}

// FuzzConfigFromEnv: any values either fail with a ConfigError or give a
// configuration that validates and yields client options.
func FuzzConfigFromEnv(f *testing.F) {
	f.Add("a:1,b:2", "topic", "sasl_ssl", "PLAIN", "u", "p", "65536", "0")
	f.Add(",", "", "SSL", "scram-sha-256", "", "x", "-5", "false")
	f.Fuzz(func(t *testing.T, brokers, topic, proto, mech, user, pass, maxBytes, redact string) {
		env := map[string]string{
			"KAFKA_BROKERS": brokers, "KAFKA_TOPIC": topic, "KAFKA_SECURITY_PROTOCOL": proto, "KAFKA_SASL_MECHANISM": mech,
			"KAFKA_SASL_USERNAME": user, "KAFKA_SASL_PASSWORD": pass, "DASHSTREAM_PRODUCER_MAX_MESSAGE_BYTES": maxBytes,
			"DASHFLOW_STATE_REDACT": redact,
		}
		c, err := ConfigFromEnv(envOf(env))
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a ConfigError: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		if _, err := c.KafkaOptions(); err != nil {
			t.Fatalf("accepted config gives no client options: %v", err)
		}
	})
}

// testPKI writes a CA and a broker certificate (for the given IPs and
// names) signed by it, and returns the broker's tls.Config and the CA file.
func testPKI(t *testing.T, ips []net.IP, names []string) (*tls.Config, string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: ips, DNSNames: names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}, caFile
}

// TestProducer_ConnectsOverTLS: the CA file is trusted, the broker's host
// name is verified unless the endpoint algorithm is "none", and the chain is
// verified in every case.
func TestProducer_ConnectsOverTLS(t *testing.T) {
	goodIP := []net.IP{net.ParseIP("127.0.0.1")}
	tests := []struct {
		name    string
		ips     []net.IP
		dns     []string
		algo    string
		wrongCA bool
		works   bool
	}{
		{"certificate for the broker's address", goodIP, nil, "https", false, true},
		{"certificate for another name is refused", nil, []string{"elsewhere.invalid"}, "https", false, false},
		{"another name passes with endpoint identification none", nil, []string{"elsewhere.invalid"}, "none", false, true},
		{"an untrusted chain is refused even with none", goodIP, nil, "none", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverTLS, caFile := testPKI(t, tt.ips, tt.dns)
			if tt.wrongCA {
				_, caFile = testPKI(t, tt.ips, tt.dns)
			}
			c := newCluster(t, kfake.TLS(serverTLS))
			p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) {
				c.DeliveryTimeout = time.Second
				c.Security = Security{Protocol: ProtocolSSL, CALocation: caFile, EndpointIdentificationAlgorithm: tt.algo}
			})
			run := p.StartRun(RunStart{ThreadID: "tls"})
			run.End(nil)
			waitFor(t, "the outcome", func() bool { st := p.Stats(); return st.Sent+st.SendFailures == 2 })
			if got := p.Stats().Sent == 2; got != tt.works {
				t.Fatalf("delivered = %v, want %v (%+v)", got, tt.works, p.Stats())
			}
		})
	}
}

// TestProducer_AuthenticatesWithSASL: PLAIN and SCRAM work; a wrong
// password is a send failure, not a hang.
func TestProducer_AuthenticatesWithSASL(t *testing.T) {
	tests := []struct {
		mech, pass string
		works      bool
	}{
		{"PLAIN", "secret", true},
		{"SCRAM-SHA-256", "secret", true},
		{"SCRAM-SHA-512", "secret", true},
		{"PLAIN", "wrong", false},
	}
	for _, tt := range tests {
		t.Run(tt.mech+"/"+tt.pass, func(t *testing.T) {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(tt.mech, "admin", "secret"))
			p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) {
				c.DeliveryTimeout = time.Second
				c.Security = Security{Protocol: ProtocolSASLPlaintext, SASLMechanism: tt.mech, SASLUsername: "admin", SASLPassword: tt.pass}
			})
			run := p.StartRun(RunStart{ThreadID: "sasl"})
			run.End(nil)
			waitFor(t, "the outcome", func() bool { st := p.Stats(); return st.Sent+st.SendFailures == 2 })
			if got := p.Stats().Sent == 2; got != tt.works {
				t.Fatalf("delivered = %v, want %v (%+v)", got, tt.works, p.Stats())
			}
			if tt.works {
				sec, err := p.cfg.securityOptions()
				if err != nil {
					t.Fatal(err)
				}
				rep := streamcheck.Check(consumeAll(t, c.ListenAddrs(), testTopic, sec...), streamcheck.Options{RequireEnd: true})
				if err := rep.Err(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestSecurity_RefusesUnusableKeyMaterial: missing files and encrypted keys
// fail in New with the setting named, not later as connection errors.
func TestSecurity_RefusesUnusableKeyMaterial(t *testing.T) {
	dir := t.TempDir()
	enc := filepath.Join(dir, "enc.pem")
	_ = os.WriteFile(enc, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), 0o600)
	tests := []struct {
		sec  Security
		want string
	}{
		{Security{Protocol: ProtocolSSL, CALocation: filepath.Join(dir, "missing.pem")}, "Security.CALocation"},
		{Security{Protocol: ProtocolSSL, CALocation: enc}, "Security.CALocation"},
		{Security{Protocol: ProtocolSSL, CertificateLocation: enc, KeyLocation: enc}, "Security.KeyLocation"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.Security = tt.sec
		_, err := New(cfg, WithLogger(quietLogger()))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Setting != tt.want {
			t.Errorf("%+v: error %v, want one naming %s", tt.sec, err, tt.want)
		}
	}
}
