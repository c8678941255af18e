package httpguard

import (
	"net"
	"path"
	"strings"
)

// hostPolicy is the DNS-rebinding guard: a rebinding page names the server
// by the attacker's domain, so only names the server knows are its own
// pass. An IP address always passes: a page at http://<ip>:<port>/ is the
// server's own origin.
type hostPolicy struct {
	any      bool
	patterns []string
	names    map[string]bool
}

func newHostPolicy(allowed, hostnames []string) hostPolicy {
	hp := hostPolicy{names: map[string]bool{"localhost": true}}
	for _, h := range hostnames {
		hp.names[normalizeHost(h)] = true
	}
	for _, p := range allowed {
		p = normalizeHost(p)
		if p == "*" {
			hp.any = true
		}
		hp.patterns = append(hp.patterns, p)
	}
	return hp
}

func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

func (hp hostPolicy) allowed(hostport string) bool {
	if hp.any || hostport == "" { // HTTP/1.0 without Host: not a browser
		return true
	}
	hostport = strings.ToLower(hostport)
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if net.ParseIP(host) != nil || hp.names[host] || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, p := range hp.patterns {
		if ok, _ := path.Match(p, host); ok {
			return true
		}
		if ok, _ := path.Match(p, hostport); ok && strings.Contains(p, ":") {
			return true
		}
	}
	return false
}
