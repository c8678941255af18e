package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_DefaultsAreTheEmbeddedDemo(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() || !c.DemoEnabled() || c.Proxy() {
		t.Errorf("embedded %v demo %v proxy %v, want the embedded demo", c.Embedded(), c.DemoEnabled(), c.Proxy())
	}
	if c.Host != "0.0.0.0" || c.Port != 8080 || c.Topic != "dashstream-events" || c.DLQTopic != "dashstream-events-dlq" ||
		c.GroupID != "websocket-server-v4" || c.DecodeErrorPolicy != "skip" || c.MaxPayloadBytes != 10<<20 ||
		c.ReplayTimeout != 30*time.Second || c.ReplayMaxTotal != 10000 || c.SendTimeout != 5*time.Second ||
		c.SlowClientThreshold != 1000 || c.SlowClientWindow != time.Minute || c.MaxConnectionsPerIP != 10 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLoad_UpstreamVariableNamesAndFlagsWin(t *testing.T) {
	c, err := Load([]string{"--kafka-topic", "from-flag"}, env(map[string]string{
		"KAFKA_BROKERS": " k1:9092 , ,k2:9092", "KAFKA_TOPIC": "from-env", "KAFKA_ON_DECODE_ERROR": " PAUSE ",
		"REDIS_URL": "redis://user:secret@localhost:6379/0", "WEBSOCKET_TRUSTED_PROXY_IPS": "10.0.0.1, ::1",
		"KAFKA_DLQ_TOPIC": "off", "DASHSTREAM_AUTH_TOKEN": "s3cret", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
		"KAFKA_SASL_MECHANISM": "scram-sha-512", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Brokers, "|") != "k1:9092|k2:9092" || c.Topic != "from-flag" || c.DecodeErrorPolicy != "pause" ||
		c.DLQTopic != "" || len(c.TrustedProxies) != 2 || c.Embedded() || c.DemoEnabled() ||
		c.Security.Protocol != "sasl_ssl" || c.Security.SASLMechanism != "SCRAM-SHA-512" {
		t.Errorf("got %+v", c)
	}
	eff := c.Effective()
	if eff["REDIS_URL"] != "redis://user:%2A%2A%2A@localhost:6379/0" || eff["DASHSTREAM_AUTH_TOKEN"] != "***" || eff["KAFKA_SASL_PASSWORD"] != "***" {
		t.Errorf("secrets not masked: %v", eff)
	}
	for k, v := range eff {
		if strings.Contains(v, "secret") || strings.Contains(v, "s3cret") {
			t.Errorf("%s leaks a secret: %q", k, v)
		}
	}
}

func TestLoad_InvalidValuesNameTheSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env: map[string]string{"WEBSOCKET_PORT": "http"}, want: "WEBSOCKET_PORT"},
		{env: map[string]string{"WEBSOCKET_PORT": "0"}, want: "WEBSOCKET_PORT"},
		{env: map[string]string{"WEBSOCKET_HOST": "not a host"}, want: "WEBSOCKET_HOST"},
		{env: map[string]string{"KAFKA_ON_DECODE_ERROR": "explode"}, want: "KAFKA_ON_DECODE_ERROR"},
		{env: map[string]string{"KAFKA_AUTO_OFFSET_RESET": "middle"}, want: "KAFKA_AUTO_OFFSET_RESET"},
		{env: map[string]string{"REDIS_URL": "http://x"}, want: "REDIS_URL"},
		{env: map[string]string{"REDIS_MESSAGE_TTL_SECS": "-1"}, want: "REDIS_MESSAGE_TTL_SECS"},
		{env: map[string]string{"REPLAY_MAX_TOTAL": "0"}, want: "REPLAY_MAX_TOTAL"},
		{env: map[string]string{"WEBSOCKET_BUFFER_SIZE": "0"}, want: "WEBSOCKET_BUFFER_SIZE"},
		{env: map[string]string{"WEBSOCKET_MAX_CONNECTIONS_PER_IP": "lots"}, want: "WEBSOCKET_MAX_CONNECTIONS_PER_IP"},
		{env: map[string]string{"WEBSOCKET_TRUSTED_PROXY_IPS": "10.0.0.0/8"}, want: "WEBSOCKET_TRUSTED_PROXY_IPS"},
		{env: map[string]string{"DLQ_INCLUDE_FULL_PAYLOAD": "maybe"}, want: "DLQ_INCLUDE_FULL_PAYLOAD"},
		{env: map[string]string{"KAFKA_SECURITY_PROTOCOL": "kerberos"}, want: "KAFKA_SECURITY_PROTOCOL"},
		{env: map[string]string{"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext"}, want: "KAFKA_SASL_MECHANISM"},
		{env: map[string]string{"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u"}, want: "KAFKA_SASL_PASSWORD"},
		{env: map[string]string{"KAFKA_SSL_CERTIFICATE_LOCATION": "c.pem"}, want: "KAFKA_SSL_KEY_LOCATION"},
		{env: map[string]string{"DASHSTREAM_UPSTREAM": "http://x"}, want: "DASHSTREAM_UPSTREAM"},
		{env: map[string]string{"DASHSTREAM_UPSTREAM": "ws://x:3002", "KAFKA_BROKERS": "k:9092"}, want: "DASHSTREAM_UPSTREAM"},
		{env: map[string]string{"DASHSTREAM_AUTH_TOKEN": "has space"}, want: "DASHSTREAM_AUTH_TOKEN"},
		{env: map[string]string{"DASHSTREAM_DEMO_RATE": "0"}, want: "DASHSTREAM_DEMO_RATE"},
		{args: []string{"--no-such-flag"}, want: "flags"},
		{args: []string{"stray"}, want: "unexpected argument"},
	}
	for _, c := range cases {
		_, err := Load(c.args, env(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("env %v args %v: error %v, want one naming %s", c.env, c.args, err, c.want)
		}
	}
}

func TestLoad_ProxyModeDisablesTheDemo(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"DASHSTREAM_UPSTREAM": "ws://127.0.0.1:3002/"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Proxy() || c.Embedded() || c.DemoEnabled() || c.Upstream != "ws://127.0.0.1:3002" {
		t.Errorf("proxy %v embedded %v demo %v upstream %q", c.Proxy(), c.Embedded(), c.DemoEnabled(), c.Upstream)
	}
	if _, err := Load([]string{"--demo", "on"}, env(map[string]string{"DASHSTREAM_UPSTREAM": "ws://h:1"})); err == nil {
		t.Error("demo on in proxy mode accepted")
	}
}

func TestUsage_ListsEverySetting(t *testing.T) {
	u := Usage()
	for _, s := range settings {
		if !strings.Contains(u, "--"+s.flag) || !strings.Contains(u, s.env[0]) {
			t.Errorf("usage lacks %s", s.flag)
		}
	}
}

// FuzzLoad: no value of any setting panics Load; a value Load accepts is
// reflected in the effective configuration.
func FuzzLoad(f *testing.F) {
	for _, s := range settings {
		f.Add(s.env[0], s.def)
		f.Add(s.env[0], "\xff\x00 -1 1e9")
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		c, err := Load(nil, env(map[string]string{name: value}))
		if err != nil {
			return
		}
		if _, ok := c.Effective()["KAFKA_TOPIC"]; !ok {
			t.Fatal("effective configuration incomplete")
		}
	})
}

func TestLoad_CatalogMaxRuns(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil || c.CatalogMaxRuns != 100_000 {
		t.Fatalf("default: %d, %v", c.CatalogMaxRuns, err)
	}
	if c, err = Load([]string{"--catalog-max-runs", "500"}, env(map[string]string{"DASHSTREAM_CATALOG_MAX_RUNS": "7"})); err != nil || c.CatalogMaxRuns != 500 {
		t.Errorf("flag: %d, %v", c.CatalogMaxRuns, err)
	}
	if c, err = Load(nil, env(map[string]string{"DASHSTREAM_CATALOG_MAX_RUNS": "7"})); err != nil || c.CatalogMaxRuns != 7 {
		t.Errorf("env: %d, %v", c.CatalogMaxRuns, err)
	}
	for _, bad := range []string{"0", "-1", "many", "10000001"} {
		if _, err := Load(nil, env(map[string]string{"DASHSTREAM_CATALOG_MAX_RUNS": bad})); err == nil || !strings.Contains(err.Error(), "DASHSTREAM_CATALOG_MAX_RUNS") {
			t.Errorf("%q: %v, want an error naming DASHSTREAM_CATALOG_MAX_RUNS", bad, err)
		}
	}
}

func TestLoad_ReplayRatePerClient(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want int
		err  bool
	}{
		{want: 20000},
		{env: map[string]string{"REPLAY_RATE_PER_CLIENT": "0"}, want: 0},
		{args: []string{"--replay-rate-per-client", "500"}, env: map[string]string{"REPLAY_RATE_PER_CLIENT": "7"}, want: 500},
		{env: map[string]string{"REPLAY_RATE_PER_CLIENT": "-1"}, err: true},
		{env: map[string]string{"REPLAY_RATE_PER_CLIENT": "fast"}, err: true},
	}
	for _, tt := range tests {
		c, err := Load(tt.args, env(tt.env))
		switch {
		case tt.err && (err == nil || !strings.Contains(err.Error(), "REPLAY_RATE_PER_CLIENT")):
			t.Errorf("%v %v: error %v, want one naming REPLAY_RATE_PER_CLIENT", tt.args, tt.env, err)
		case !tt.err && (err != nil || c.ReplayRatePerClient != tt.want):
			t.Errorf("%v %v: %v, %v; want %d", tt.args, tt.env, c, err, tt.want)
		}
	}
}
