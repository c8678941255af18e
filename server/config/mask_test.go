package config

import (
	"strings"
	"testing"
)

func TestMaskURL_NeverShowsThePassword(t *testing.T) {
	cases := []struct{ in, want string }{
		{"redis://:s3cret@host:6379/0", "redis://:%2A%2A%2A@host:6379/0"},
		{"redis://user:s3cret@host:6379", "redis://user:%2A%2A%2A@host:6379"},
		{"redis://:s3cr%t@host:6379", "redis://:***@host:6379"},              // does not parse
		{"redis://us%er:s3c%ret@host/0?x=1", "redis://us%er:***@host/0?x=1"}, // does not parse
		{"redis://:p@ss%w@host:6379", "redis://:***@host:6379"},              // "@" in the password
		{"redis://token%zz@host", "redis://***@host"},                        // a bare userinfo may be the secret
		{"redis://host:6379", "redis://host:6379"},
		{"not a url %zz with@secret", "***"},
		{"", ""},
	}
	for _, c := range cases {
		got := MaskURL(c.in)
		if got != c.want {
			t.Errorf("MaskURL(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, secret := range []string{"s3cret", "s3cr%t", "s3c%ret", "p@ss%w", "token%zz"} {
			if strings.Contains(c.in, secret) && strings.Contains(got, secret) {
				t.Errorf("MaskURL(%q) = %q shows %q", c.in, got, secret)
			}
		}
	}
}

func TestLoad_UnparsableRedisURLErrorIsMasked(t *testing.T) {
	env := map[string]string{"REDIS_URL": "redis://:pa%ss@127.0.0.1:6379"}
	_, err := Load(nil, func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("an unparsable REDIS_URL was accepted")
	}
	if strings.Contains(err.Error(), "pa%ss") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func FuzzMaskURL(f *testing.F) {
	for _, s := range []string{"redis://:s3cret@host", "redis://u:p%@h", "x://a:b@c@d/e", "://:@", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := MaskURL(raw)
		// Whatever stands between "user:" and the last "@" of the
		// authority must not survive when it is long enough to matter.
		_, rest, ok := strings.Cut(raw, "://")
		if !ok {
			return
		}
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		at := strings.LastIndex(rest[:end], "@")
		if at < 0 {
			return
		}
		if _, pass, has := strings.Cut(rest[:at], ":"); has && len(pass) >= 6 && !strings.Contains(pass, "*") &&
			!strings.Contains(raw[:len(raw)-len(rest)], pass) && strings.Count(raw, pass) == 1 && strings.Contains(got, pass) {
			t.Fatalf("MaskURL(%q) = %q shows the password %q", raw, got, pass)
		}
	})
}
