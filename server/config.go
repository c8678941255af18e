package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
)

// config is the server's effective configuration. Every setting is a flag
// with an environment variable (the upstream name where one exists); flags
// win over the environment.
type config struct {
	Host string
	Port int
	// WebDir holds app.wasm, styles and icons; go-app serves it as /web/.
	WebDir string
}

// loadConfig reads flags from args and defaults from getenv. An invalid value
// is an error that names the setting; nothing falls back silently.
func loadConfig(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	host := fs.String("host", envOr(getenv, "WEBSOCKET_HOST", "0.0.0.0"), "listen address (WEBSOCKET_HOST)")
	port := fs.String("port", envOr(getenv, "WEBSOCKET_PORT", "8080"), "listen port (WEBSOCKET_PORT)")
	web := fs.String("web-dir", envOr(getenv, "DASHSTREAM_WEB_DIR", "web"), "folder with app.wasm and static assets, relative to the working directory (DASHSTREAM_WEB_DIR)")
	if err := fs.Parse(args); err != nil {
		return config{}, fmt.Errorf("flags: %w", err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("flags: unexpected argument %q", fs.Arg(0))
	}
	p, err := strconv.Atoi(*port)
	if err != nil || p < 1 || p > 65535 {
		return config{}, fmt.Errorf("WEBSOCKET_PORT / --port: %q is not a port number (1-65535)", *port)
	}
	if *host != "" && net.ParseIP(*host) == nil && *host != "localhost" {
		return config{}, fmt.Errorf("WEBSOCKET_HOST / --host: %q is not an IP address or localhost", *host)
	}
	dir, err := filepath.Abs(*web)
	if err != nil {
		return config{}, fmt.Errorf("DASHSTREAM_WEB_DIR / --web-dir: %w", err)
	}
	return config{Host: *host, Port: p, WebDir: dir}, nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// Addr returns the listen address.
func (c config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }
