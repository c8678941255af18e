// Command server is the DashStream gateway: it reads the DashStream topic
// from Kafka (an embedded broker by default), fans every record out to
// browsers over WebSockets with replay and resume, serves the dashboard, and
// answers the operator endpoints. With --upstream it instead relays an
// upstream websocket-server (proxy mode).
//
// Start it from the repository root (make run): it serves ./web and keeps
// the embedded broker's log under ./data. Every setting is a flag with an
// environment variable; run with -h to list them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dashstream/dashstream/server/config"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	if err := run(os.Args[1:], os.Getenv, log); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

func logLevel() slog.Level {
	if os.Getenv("DASHSTREAM_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func run(args []string, getenv func(string) string, log *slog.Logger) error {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
		sha, date := stamp()
		b, _ := json.Marshal(map[string]string{"git_sha": sha, "build_date": date})
		fmt.Println(string(b))
		return nil
	}
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, config.ErrHelp) {
		fmt.Print("Usage: server [flags]; every flag also reads the environment variable named beside it.\n\n" + config.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	cfg.GitSHA, cfg.BuildDate = stamp()
	if cfg.WebDir, err = filepath.Abs(cfg.WebDir); err != nil {
		return fmt.Errorf("DASHSTREAM_WEB_DIR: %w", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.WebDir, "app.wasm")); err != nil {
		return fmt.Errorf("%s/app.wasm is missing (run `make wasm`, and start the server from the repository root): %w", cfg.WebDir, err)
	}
	log.Info("effective configuration", "config", cfg.Effective())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	if err != nil {
		return fmt.Errorf("WEBSOCKET_HOST / WEBSOCKET_PORT: listen on %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	gw, err := start(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	srv := gw.server()
	if cfg.AuthToken == "" && cfg.Host != "127.0.0.1" && cfg.Host != "localhost" && cfg.Host != "::1" {
		log.Warn("listening beyond loopback without DASHSTREAM_AUTH_TOKEN: anyone who can reach this port sees every run (browsers from other sites are still refused by the Origin check)")
	}
	log.Info("dashboard listening", "url", fmt.Sprintf("http://localhost:%d", cfg.Port), "mode", gw.mode)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// Clients first (1001 going away), then HTTP, then the pipeline.
	gw.closeClients(shutdownCtx)
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	gw.stop(shutdownCtx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}
