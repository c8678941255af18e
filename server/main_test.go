package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig_DefaultsEnvAndFlags(t *testing.T) {
	cfg, err := loadConfig(nil, env(nil))
	if err != nil || cfg.Host != "0.0.0.0" || cfg.Port != 8080 || filepath.Base(cfg.WebDir) != "web" {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = loadConfig(nil, env(map[string]string{"WEBSOCKET_HOST": "127.0.0.1", "WEBSOCKET_PORT": "3002"}))
	if err != nil || cfg.Addr() != "127.0.0.1:3002" {
		t.Errorf("environment: %+v, %v", cfg, err)
	}
	cfg, err = loadConfig([]string{"--port", "9000", "--host", "::1"}, env(map[string]string{"WEBSOCKET_PORT": "3002"}))
	if err != nil || cfg.Addr() != "[::1]:9000" {
		t.Errorf("flags over environment: %+v, %v", cfg, err)
	}
}

func TestLoadConfig_InvalidValuesNameTheSetting(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"WEBSOCKET_PORT": "http"}, "WEBSOCKET_PORT"},
		{nil, map[string]string{"WEBSOCKET_PORT": "70000"}, "WEBSOCKET_PORT"},
		{nil, map[string]string{"WEBSOCKET_PORT": "0"}, "WEBSOCKET_PORT"},
		{[]string{"--port", "-1"}, nil, "--port"},
		{nil, map[string]string{"WEBSOCKET_HOST": "not a host!"}, "WEBSOCKET_HOST"},
		{[]string{"--nope"}, nil, "flags"},
		{[]string{"extra"}, nil, "unexpected argument"},
	}
	for _, c := range cases {
		_, err := loadConfig(c.args, env(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("args %v env %v: error %v, want one naming %q", c.args, c.env, err, c.want)
		}
	}
}

func TestRun_FailsClearlyWithoutTheWasm(t *testing.T) {
	dir := t.TempDir()
	err := run([]string{"--web-dir", dir, "--port", "1"}, env(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "make wasm") {
		t.Errorf("error %v, want a hint to run make wasm", err)
	}
}

func TestHandler_ServesHealthzPageAndAssets(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"app.wasm": "\x00asm", "app.css": "body{}"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(newHandler(config{WebDir: dir}))
	defer srv.Close()

	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	resp, body := get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, `<title>DashStream</title>`) || !strings.Contains(body, `data-state="connecting"`) {
		t.Errorf("/: %d, page lacks the prerendered shell:\n%.600s", resp.StatusCode, body)
	}
	if strings.Contains(body, "githubusercontent") {
		t.Error("page points at the internet for its icon")
	}
	if resp, body := get("/web/app.wasm"); resp.StatusCode != 200 || body != "\x00asm" || resp.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("/web/app.wasm: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	if resp, _ := get("/web/app.css"); resp.StatusCode != 200 {
		t.Errorf("/web/app.css: %d", resp.StatusCode)
	}
	if resp, _ := get("/web/missing.js"); resp.StatusCode != 404 {
		t.Errorf("/web/missing.js: %d", resp.StatusCode)
	}
}
