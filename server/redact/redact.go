// Package redact removes secrets from user content before it leaves the
// process as telemetry: the eleven patterns of the upstream DashStream
// producer (API keys of OpenAI, Anthropic, AWS, GitHub, Google and Stripe,
// bearer tokens, api_key assignments, URL passwords, private-key markers and
// JWTs), each replaced by a fixed marker such as [OPENAI_KEY].
//
// String applies every pattern, in the upstream order, and repeats until
// nothing matches, so its output never contains a match of any pattern
// (a replacement can complete a match only by changing the text around it,
// and the markers are chosen so that it never does; the loop makes sure).
//
// Most strings hold no secret. A single pass over the bytes looks for the
// literal each pattern must contain (sk-, AKIA, ://, eyJ, ...) and returns
// the string itself, without allocating, when none occurs; the regular
// expressions run only on the rest. The patterns are compiled once.
package redact

import (
	"regexp"
)

// Pattern is one kind of secret and the marker that replaces it.
type Pattern struct {
	// Name identifies the pattern ("openai_key", ...).
	Name string
	// Expr is the regular expression (RE2 syntax).
	Expr string
	// Replacement is the marker written in place of each match.
	Replacement string

	re *regexp.Regexp
}

// patterns are the upstream set (producer note §10), in its order, and one
// more at the end. The order matters: the OpenAI pattern runs before the Anthropic one, and an
// Anthropic key (sk-ant-...) is not an OpenAI key because of its dashes.
var patterns = compile([]Pattern{
	{Name: "openai_key", Expr: `sk-[A-Za-z0-9]{20,}`, Replacement: "[OPENAI_KEY]"},
	{Name: "anthropic_key", Expr: `sk-ant-[A-Za-z0-9_-]{20,}`, Replacement: "[ANTHROPIC_KEY]"},
	{Name: "aws_key", Expr: `(?:AKIA|ABIA|ACCA|ASIA)[A-Z0-9]{16}`, Replacement: "[AWS_KEY]"},
	{Name: "github_token", Expr: `gh[pousr]_[A-Za-z0-9]{36,}`, Replacement: "[GITHUB_TOKEN]"},
	{Name: "bearer_token", Expr: `[Bb]earer\s+[A-Za-z0-9_.\-]{20,}`, Replacement: "Bearer [TOKEN]"},
	{Name: "api_key", Expr: `(?i)(?:api_key|api-key|apikey)[=: ]+["']?[A-Za-z0-9_\-]{20,}["']?`, Replacement: "[API_KEY]"},
	// The user part stops at '/', '@' and white space so that a match never
	// spans two URLs, nor swallows the marker of an earlier one.
	{Name: "url_password", Expr: `://[^:/@\s]+:[^@\s]{8,}@`, Replacement: "://[CREDENTIALS]@"},
	{Name: "private_key", Expr: `-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----`, Replacement: "[PRIVATE_KEY]"},
	{Name: "jwt", Expr: `eyJ[A-Za-z0-9_-]{20,}\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`, Replacement: "[JWT_TOKEN]"},
	{Name: "google_api_key", Expr: `AIza[A-Za-z0-9_-]{35}`, Replacement: "[GOOGLE_API_KEY]"},
	{Name: "stripe_key", Expr: `sk_(?:live|test)_[A-Za-z0-9]{24,}`, Replacement: "[STRIPE_KEY]"},
	// Beyond upstream: OpenAI's project, service-account and admin keys
	// (sk-proj-…, the default since 2024) carry dashes and underscores, so
	// upstream's OpenAI pattern lets them through whole.
	{Name: "openai_scoped_key", Expr: `sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}`, Replacement: "[OPENAI_KEY]"},
})

func compile(ps []Pattern) []Pattern {
	for i := range ps {
		ps[i].re = regexp.MustCompile(ps[i].Expr)
	}
	return ps
}

// Patterns returns the patterns String applies, in order.
func Patterns() []Pattern {
	out := make([]Pattern, len(patterns))
	copy(out, patterns)
	return out
}

// Matches reports whether s contains a match of p.
func (p Pattern) Matches(s string) bool { return p.re.MatchString(s) }

// minSecretLen is the length of the shortest possible match of any pattern
// ("://u:12345678@"); shorter strings cannot hold a secret.
const minSecretLen = 14

// maxPasses bounds the repetition in String. No marker can start or complete
// a new match, so the second pass already finds nothing; the bound only
// guards against a future pattern that breaks that.
const maxPasses = 8

// String returns s with every secret replaced by its pattern's marker. When
// s holds none, String returns s itself and allocates nothing.
func String(s string) string {
	cand := candidates(s)
	for pass := 0; cand != 0 && pass < maxPasses; pass++ {
		changed := false
		for i := range patterns {
			if cand&(1<<i) == 0 {
				continue
			}
			p := &patterns[i]
			if !p.re.MatchString(s) {
				continue
			}
			s = p.re.ReplaceAllLiteralString(s, p.Replacement)
			changed = true
		}
		if !changed {
			break
		}
		cand = candidates(s)
	}
	return s
}

// MayContainSecret reports whether s contains one of the literals a secret
// must begin with (or, for URL passwords, contain). False means String would
// return s unchanged; true means it may not.
func MayContainSecret(s string) bool { return candidates(s) != 0 }

// Pattern indices, in the order of patterns.
const (
	pOpenAI = 1 << iota
	pAnthropic
	pAWS
	pGitHub
	pBearer
	pAPIKey
	pURL
	pPrivateKey
	pJWT
	pGoogle
	pStripe
	pOpenAIScoped
)

// candidates returns the set of patterns (bit i for patterns[i]) whose
// literal occurs in s, in one pass over its bytes: only those patterns can
// match, and only they are run.
func candidates(s string) uint16 {
	if len(s) < minSecretLen {
		return 0
	}
	var set uint16
	// Stop where no secret can start any more: each literal below is
	// followed by at least a few more characters in every pattern.
	end := len(s) - 3
	for i := 0; i < end; i++ {
		switch s[i] {
		case 's': // sk- sk-ant- sk_
			if s[i+1] == 'k' {
				switch s[i+2] {
				case '-':
					set |= pOpenAI | pAnthropic | pOpenAIScoped
				case '_':
					set |= pStripe
				}
			}
		case 'A': // AKIA ABIA ACCA ASIA AIza, and API (any case)
			switch s[i+1] {
			case 'K', 'B', 'S':
				if s[i+2] == 'I' && s[i+3] == 'A' {
					set |= pAWS
				}
			case 'C':
				if s[i+2] == 'C' && s[i+3] == 'A' {
					set |= pAWS
				}
			case 'I':
				if s[i+2] == 'z' && s[i+3] == 'a' {
					set |= pGoogle
				}
			case 'p', 'P':
				if s[i+2]|0x20 == 'i' {
					set |= pAPIKey
				}
			}
		case 'a': // api, any case
			if s[i+1]|0x20 == 'p' && s[i+2]|0x20 == 'i' {
				set |= pAPIKey
			}
		case 'g': // ghp_ gho_ ghu_ ghs_ ghr_
			if s[i+1] == 'h' && s[i+3] == '_' {
				switch s[i+2] {
				case 'p', 'o', 'u', 's', 'r':
					set |= pGitHub
				}
			}
		case 'e': // (B|b)earer, eyJ
			if s[i+1] == 'y' && s[i+2] == 'J' {
				set |= pJWT
			} else if s[i+1] == 'a' && s[i+2] == 'r' && s[i+3] == 'e' {
				set |= pBearer
			}
		case ':': // ://
			if s[i+1] == '/' && s[i+2] == '/' {
				set |= pURL
			}
		case '-': // -----BEGIN
			if s[i+1] == '-' && s[i+2] == '-' && s[i+3] == '-' {
				set |= pPrivateKey
			}
		}
	}
	return set
}
