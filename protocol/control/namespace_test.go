package control

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestResumeNamespace_UpstreamDefaultVector(t *testing.T) {
	got := ResumeNamespace("dashstream-quality", "websocket-server-v4", "127.0.0.1:9092", "")
	want := "v1_dG9waWM9ZGFzaHN0cmVhbS1xdWFsaXR5O2dyb3VwPXdlYnNvY2tldC1zZXJ2ZXItdjQ7YnJva2Vycz0xMjcuMC4wLjE6OTA5Mg"
	if got != want {
		t.Fatalf("ResumeNamespace = %s\nwant %s", got, want)
	}
}

// decodeNamespace returns the prefix and the raw form of a namespace.
func decodeNamespace(t *testing.T, ns string) (string, string) {
	t.Helper()
	prefix, enc, ok := strings.Cut(ns, "_")
	if !ok {
		t.Fatalf("namespace %q has no prefix", ns)
	}
	if strings.ContainsAny(enc, "=+/") {
		t.Fatalf("namespace %q is not unpadded base64url", ns)
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("namespace %q: %v", ns, err)
	}
	return prefix + "_", string(raw)
}

func TestResumeNamespace_NormalizesBrokers(t *testing.T) {
	tests := []struct {
		name, brokers, want string
	}{
		{"single", "b:9092", "b:9092"},
		{"spaces trimmed", "  b:9092 ,\ta:9092\n", "a:9092,b:9092"},
		{"empties dropped", ",b:1,,a:1,", "a:1,b:1"},
		{"only empties", " , ,", ""},
		{"empty", "", ""},
		{"sorted bytewise", "b,B,a,10,9", "10,9,B,a,b"},
		{"duplicates kept", "a:1, a:1 ,b:1", "a:1,a:1,b:1"},
		{"inner spaces kept", "a b,c", "a b,c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix, raw := decodeNamespace(t, ResumeNamespace("t", "g", tt.brokers, ""))
			if prefix != "v1_" || raw != "topic=t;group=g;brokers="+tt.want {
				t.Fatalf("got %s%s, want brokers=%s", prefix, raw, tt.want)
			}
		})
	}
	if ResumeNamespace("t", "g", "b:1,a:1", "") != ResumeNamespace("t", "g", " a:1 , b:1 ", "") {
		t.Fatal("equivalent broker lists give different namespaces")
	}
}

func TestResumeNamespace_ClusterIDUsesV2(t *testing.T) {
	ns := ResumeNamespace("dashstream-quality", "websocket-server-v4", "k2:9092,k1:9092", "prod-eu")
	prefix, raw := decodeNamespace(t, ns)
	if prefix != "v2_" || raw != "cluster=prod-eu;topic=dashstream-quality;group=websocket-server-v4;brokers=k1:9092,k2:9092" {
		t.Fatalf("got %s%s", prefix, raw)
	}
	if want := "v2_" + base64.RawURLEncoding.EncodeToString([]byte(raw)); ns != want {
		t.Fatalf("got %s, want %s", ns, want)
	}
	if ResumeNamespace("t", "g", "b", "c1") == ResumeNamespace("t", "g", "b", "c2") {
		t.Fatal("cluster id does not change the namespace")
	}
}

func TestResumeNamespace_IsURLSafe(t *testing.T) {
	// Bytes that encode to '+' and '/' in standard base64 must come out as
	// '-' and '_'.
	ns := ResumeNamespace("\xfb\xff?>", "g", "b", "")
	if strings.ContainsAny(ns[3:], "+/=") {
		t.Fatalf("namespace %q is not URL-safe", ns)
	}
}
