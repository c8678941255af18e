package redact

import (
	"strings"
	"testing"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Fake secrets, built so that no real key appears in the source.
var (
	openAIKey    = "sk-" + strings.Repeat("A1b2", 6)              // 24 alphanumerics
	anthropicKey = "sk-ant-api03-" + strings.Repeat("Xy_9-", 5)   // dashes and underscores
	awsKey       = "AKIA" + "IOSFODNN7EXAMPLE"                    // AWS's documented example
	githubToken  = "ghp_" + strings.Repeat("a1B2c3", 6)           // 36 alphanumerics
	googleKey    = "AIza" + strings.Repeat("Sy-_0", 7)            // 35 characters
	stripeKey    = "sk_live_" + strings.Repeat("4eC39HqLyjWD", 2) // 24 alphanumerics
	jwt          = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)

// TestString_RedactsEachPattern is one table per pattern: what it must catch,
// and the look-alikes it must leave alone.
func TestString_RedactsEachPattern(t *testing.T) {
	tests := []struct {
		pattern string
		in      string
		want    string
	}{
		{"openai_key", "key " + openAIKey + " end", "key [OPENAI_KEY] end"},
		{"openai_key", "sk-" + strings.Repeat("a", 20), "[OPENAI_KEY]"},
		{"openai_key", "sk-" + strings.Repeat("a", 19) + " is too short", "sk-" + strings.Repeat("a", 19) + " is too short"},
		{"openai_key", "two: " + openAIKey + "," + openAIKey, "two: [OPENAI_KEY],[OPENAI_KEY]"},
		{"anthropic_key", "x=" + anthropicKey, "x=[ANTHROPIC_KEY]"},
		{"anthropic_key", "sk-ant-short", "sk-ant-short"},
		{"aws_key", "id " + awsKey + ".", "id [AWS_KEY]."},
		{"aws_key", "ASIA" + "ABCDEFGHIJKLMNOP", "[AWS_KEY]"},
		{"aws_key", "ABIA" + "1234567890ABCDEF and ACCA" + "1234567890ABCDEF", "[AWS_KEY] and [AWS_KEY]"},
		{"aws_key", "AKIA" + "abcdefghijklmnop (lower case)", "AKIA" + "abcdefghijklmnop (lower case)"},
		{"github_token", "token " + githubToken, "token [GITHUB_TOKEN]"},
		{"github_token", "gho_" + strings.Repeat("x", 36), "[GITHUB_TOKEN]"},
		{"github_token", "ghx_" + strings.Repeat("x", 36), "ghx_" + strings.Repeat("x", 36)},
		{"bearer_token", "Authorization: Bearer " + strings.Repeat("abc.def-", 3), "Authorization: Bearer [TOKEN]"},
		{"bearer_token", "bearer\t" + strings.Repeat("Z", 20), "Bearer [TOKEN]"},
		{"bearer_token", "Bearer short", "Bearer short"},
		{"api_key", `config api_key="` + strings.Repeat("k", 24) + `"`, "config [API_KEY]"},
		{"api_key", "API-KEY: " + strings.Repeat("K9_", 8), "[API_KEY]"},
		{"api_key", "ApiKey=" + strings.Repeat("z", 20) + " rest", "[API_KEY] rest"},
		{"api_key", "api_key=tooshort", "api_key=tooshort"},
		{"url_password", "postgres://admin:s3cr3tpassw0rd@db:5432/x", "postgres://[CREDENTIALS]@db:5432/x"},
		{"url_password", "https://user:short@host", "https://user:short@host"},
		{"url_password", "see https://a:12345678@h and ftp://b:abcdefgh@i", "see https://[CREDENTIALS]@h and ftp://[CREDENTIALS]@i"},
		{"private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE", "[PRIVATE_KEY]\nMIIE"},
		{"private_key", "-----BEGIN PRIVATE KEY-----", "[PRIVATE_KEY]"},
		{"private_key", "-----BEGIN OPENSSH PRIVATE KEY-----", "[PRIVATE_KEY]"},
		{"private_key", "-----BEGIN PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----"},
		{"jwt", "jwt=" + jwt + ";", "jwt=[JWT_TOKEN];"},
		{"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJ.x", "eyJhbGciOiJIUzI1NiJ9.eyJ.x"},
		{"google_api_key", "k=" + googleKey, "k=[GOOGLE_API_KEY]"},
		{"google_api_key", "AIza" + "short", "AIza" + "short"},
		{"stripe_key", stripeKey, "[STRIPE_KEY]"},
		{"stripe_key", "sk_test_" + strings.Repeat("a", 24), "[STRIPE_KEY]"},
		{"stripe_key", "sk_prod_" + strings.Repeat("a", 24), "sk_prod_" + strings.Repeat("a", 24)},
		{"openai_scoped_key", "client(sk-proj-" + strings.Repeat("Ab_9-", 30) + ") next", "client([OPENAI_KEY]) next"},
		{"openai_scoped_key", "sk-svcacct-" + strings.Repeat("x", 20) + ", sk-admin-" + strings.Repeat("Y-", 12), "[OPENAI_KEY], [OPENAI_KEY]"},
		{"openai_scoped_key", "sk-proj-short", "sk-proj-short"},
		{"openai_scoped_key", "sk-project-" + strings.Repeat("x", 20), "sk-project-" + strings.Repeat("x", 20)},
	}
	names := map[string]bool{}
	for _, p := range Patterns() {
		names[p.Name] = true
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		if !names[tt.pattern] {
			t.Fatalf("table names unknown pattern %q", tt.pattern)
		}
		covered[tt.pattern] = true
		t.Run(tt.pattern+"/"+tt.in, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Fatalf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
	if len(covered) != len(names) || len(names) != 12 {
		t.Fatalf("%d patterns, %d covered by the table; want all 12", len(names), len(covered))
	}
}

// TestString_LeavesOrdinaryTextAlone, including text full of the trigger
// literals, and allocates nothing when there is nothing to redact.
func TestString_LeavesOrdinaryTextAlone(t *testing.T) {
	for _, s := range []string{
		"",
		"hello",
		"The agent asked the search API for café prices in 東京 😀 — the bearer of bad news.",
		"see https://example.com/path and sk-short, ghp_short, AKIA0",
		"-----BEGIN CERTIFICATE-----",
	} {
		if got := String(s); got != s {
			t.Errorf("String(%q) = %q", s, got)
		}
	}
	s := strings.Repeat("plain words without anything secret ", 20)
	if allocs := testing.AllocsPerRun(100, func() { String(s) }); allocs != 0 {
		t.Fatalf("String allocated %v times on clean text", allocs)
	}
}

// TestString_AnthropicKeyIsNotReportedAsOpenAI: order matters, and the dashes
// of an Anthropic key keep the OpenAI pattern from taking it.
func TestString_AnthropicKeyIsNotReportedAsOpenAI(t *testing.T) {
	if got := String(anthropicKey); got != "[ANTHROPIC_KEY]" {
		t.Fatalf("got %q", got)
	}
}

// TestTree_RedactsValuesNotNames: every string value at any depth, never a
// member name; numbers keep their literals; clean subtrees are shared.
func TestTree_RedactsValuesNotNames(t *testing.T) {
	doc := `{"messages":[{"role":"user","content":"my key is ` + openAIKey + `"}],` +
		`"` + openAIKey + `":"name is not redacted","score":1.0,"id":12345678901234567890,` +
		`"clean":{"deep":["a","b"]},"nested":{"x":[{"y":"Bearer ` + strings.Repeat("t", 30) + `"}]}}`
	n, err := jsontree.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out := Tree(n)
	want := `{"messages":[{"role":"user","content":"my key is [OPENAI_KEY]"}],` +
		`"` + openAIKey + `":"name is not redacted","score":1.0,"id":12345678901234567890,` +
		`"clean":{"deep":["a","b"]},"nested":{"x":[{"y":"Bearer [TOKEN]"}]}}`
	if got := out.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	inClean, _ := n.Get("clean")
	outClean, _ := out.Get("clean")
	if inClean != outClean {
		t.Error("a clean subtree was copied instead of shared")
	}
	if n.String() != doc {
		t.Error("the input tree changed")
	}
	clean, _ := jsontree.Parse([]byte(`{"a":["b",{"c":"d"}]}`))
	if Tree(clean) != clean {
		t.Error("a clean document was not returned as is")
	}
}

// TestTreeReusing_TakesUnchangedSubtreesFromThePreviousResult: a subtree that
// is the same node as in the previous version is not redacted again.
func TestTreeReusing_TakesUnchangedSubtreesFromThePreviousResult(t *testing.T) {
	v1, err := jsontree.Parse([]byte(`{"secret":{"k":"` + openAIKey + `"},"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	out1 := Tree(v1)
	two, _ := jsontree.NumberNode("2")
	v2 := v1.ObjectSet("n", two)
	out2 := TreeReusing(v2, v1, out1)
	s1, _ := out1.Get("secret")
	s2, _ := out2.Get("secret")
	if s1 != s2 {
		t.Error("the unchanged redacted subtree was rebuilt")
	}
	if got, want := out2.String(), `{"secret":{"k":"[OPENAI_KEY]"},"n":2}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// A different previous version is only a hint: the result is still right.
	other, _ := jsontree.Parse([]byte(`["unrelated"]`))
	if got := TreeReusing(v2, other, other).String(); got != `{"secret":{"k":"[OPENAI_KEY]"},"n":2}` {
		t.Fatalf("with an unrelated previous version: %s", got)
	}
}

// FuzzString: String never panics, its output contains no match of any
// pattern, the prefilter never rules out a pattern that matches, and text
// without a match comes back unchanged.
func FuzzString(f *testing.F) {
	for _, s := range []string{
		"", "plain", openAIKey, anthropicKey, awsKey, githubToken, googleKey, stripeKey, jwt,
		"Bearer " + strings.Repeat("x", 20), "api_key=" + strings.Repeat("y", 20),
		"https://u:pppppppp@h", "a://b:://c:dddddddd@", "-----BEGIN EC PRIVATE KEY-----",
		"sk-sk-" + strings.Repeat("a", 20), "://u:sk-" + strings.Repeat("a", 20) + "@",
		"sk-proj-" + strings.Repeat("a-_", 10),
		"é東京😀 " + openAIKey,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		anyMatch := false
		cand := candidates(s)
		for i, p := range patterns {
			if p.Matches(s) {
				anyMatch = true
				if cand&(1<<i) == 0 {
					t.Fatalf("prefilter missed %s in %q", p.Name, s)
				}
			}
		}
		out := String(s)
		for _, p := range patterns {
			if p.Matches(out) {
				t.Fatalf("String(%q) = %q still matches %s", s, out, p.Name)
			}
		}
		if !anyMatch && out != s {
			t.Fatalf("String changed %q without a match: %q", s, out)
		}
	})
}

func BenchmarkString_Clean1KB(b *testing.B) {
	s := strings.Repeat("The agent searched the filings and summarised each result. ", 17)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		String(s)
	}
}

func BenchmarkString_WithSecret1KB(b *testing.B) {
	s := strings.Repeat("The agent searched the filings and summarised each result. ", 16) + openAIKey
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		String(s)
	}
}
