// Command server is the DashStream gateway. For now it serves the dashboard
// (the go-app pages prerendered from app/ui and the app.wasm built from
// ./wasm) and answers /healthz; the Kafka-to-WebSocket gateway lands next.
//
// Start it from the repository root (make run): it serves ./web.
package main

import (
	"context"
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

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/ui"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], os.Getenv, log); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, log *slog.Logger) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cfg.WebDir, "app.wasm")); err != nil {
		return fmt.Errorf("%s/app.wasm is missing (run `make wasm`, and start the server from the repository root): %w", cfg.WebDir, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	srv := &http.Server{
		Handler:           newHandler(cfg),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Info("dashboard listening", "addr", ln.Addr().String(), "url", "http://localhost:"+fmt.Sprint(cfg.Port), "web_dir", cfg.WebDir)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newHandler routes /healthz and serves the dashboard for everything else.
func newHandler(cfg config) http.Handler {
	ui.Routes()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/", &app.Handler{
		Name:        ui.Title,
		ShortName:   ui.Title,
		Title:       ui.Title,
		Description: "Live observability for graph-workflow runs",
		Icon:        app.Icon{Default: "/web/icon.png", SVG: "/web/icon.svg"},
		Styles:      []string{"/web/app.css"},
		// The default resolver only serves ./web; this one serves the
		// configured folder at the same /web/ URLs.
		Resources: webDir{http.StripPrefix("/web/", http.FileServer(http.Dir(cfg.WebDir)))},
	})
	return mux
}

// webDir serves static resources from a folder under the /web/ prefix.
type webDir struct{ http.Handler }

// Resolve keeps resource URLs as they are: they already start with /web/.
func (webDir) Resolve(location string) string { return location }
