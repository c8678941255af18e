# DashStream in Go. The two commands: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)

# Packages that also run in the browser (GOOS=js GOARCH=wasm, headless Chromium).
WASM_PKGS := ./protocol/... ./app/...
# wasmbrowsertest's old cdproto logs Chromium 156's new enum values; harmless.
WASM_NOISE := could not unmarshal event|unknown IPAddressSpace value

.PHONY: run test wasm wasm-release stamp-ldflags proto bench soak deps deps-run vet proto-check test-native test-wasm clean

# Build stamp for /version: the commit (with -dirty when the tree has
# changes) and its time, as Go's own VCS stamping records them. Both stay the
# same from run to run of one source, so `go run` reuses its cached build.
STAMP_SHA := $(shell sha=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD -- 2>/dev/null || sha=$$sha-dirty; echo $$sha; } || echo unknown)
STAMP_DATE := $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
STAMP := -ldflags='-X main.gitSHA=$(STAMP_SHA) -X main.buildDate=$(STAMP_DATE)'

## run: build the dashboard and start it on http://localhost:8080 (embedded default).
## app.wasm is compressed at a fast level first; the best brotli level is
## made in the background (niced) and served as soon as it is ready.
run: deps-run wasm
	@(nice -n 19 tools/wasmzip.sh best web/app.wasm >/dev/null 2>&1 &)
	$(GO) run $(STAMP) ./server

## test: install what is missing, then vet, proto check, native tests (-race) and browser tests.
test: deps proto-check vet test-native test-wasm

deps:
	@tools/deps.sh test

deps-run:
	@tools/deps.sh run

# Inlining copies code into every caller: in app.wasm it costs more than it
# gives everywhere but on the message path (decode, apply, hash), which keeps
# it. This keeps app.wasm under 2.5 MB of brotli (the budget of issue 7).
# Of protobuf only protowire is on that path: messages are decoded by
# protocol/pbwire, and the reflective runtime (descriptors, text format) runs
# at start-up and on rare paths. Of crypto only the SHA-256 that statehash
# runs is on it; TLS, elliptic curves and RSA come along with net/http
# (go-app and the websocket library import it). Leaving the rest uninlined
# saves ~85 KB of brotli; of protocol/... and app/... only runstate's
# quarantine of unbound messages (proto.Size) compiles differently.
WASM_HOT := github.com/dashstream/dashstream/protocol/... github.com/dashstream/dashstream/app/session \
	google.golang.org/protobuf/encoding/protowire github.com/klauspost/compress/... github.com/tidwall/... \
	crypto/sha256 crypto/internal/fips140/sha256 crypto/internal/fips140deps/... \
	runtime strconv bytes unicode/... math/... sort slices internal/... sync/...
WASM_GCFLAGS := -gcflags=all=-l $(foreach p,$(WASM_HOT),-gcflags=$(p)=)

## wasm: build ./wasm into web/app.wasm plus web/app.wasm.br and .gz at a fast level (recompressed only when they do not match).
wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' $(WASM_GCFLAGS) -o web/app.wasm.tmp ./wasm
	@if cmp -s web/app.wasm.tmp web/app.wasm; then rm web/app.wasm.tmp; else mv web/app.wasm.tmp web/app.wasm; fi
	@tools/wasmzip.sh fast web/app.wasm

## wasm-release: make wasm, then compress at the best levels (brotli -q 11, gzip -9: about a minute).
wasm-release: wasm
	@tools/wasmzip.sh best web/app.wasm

## stamp-ldflags: print the -ldflags value that stamps /version (for builds outside make run).
stamp-ldflags:
	@echo "-X main.gitSHA=$(STAMP_SHA) -X main.buildDate=$(STAMP_DATE)"

## proto: regenerate protocol/pb from protocol/dashstream.proto (the output is committed).
proto:
	protoc --proto_path=protocol --go_out=protocol/pb --go_opt=paths=source_relative protocol/dashstream.proto

# proto-check fails when the committed protocol/pb differs from what make proto
# generates (the protoc version line is ignored).
proto-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	protoc --proto_path=protocol --go_out=$$tmp --go_opt=paths=source_relative protocol/dashstream.proto; \
	if ! diff -u -I '^// 	protoc  ' protocol/pb/dashstream.pb.go $$tmp/dashstream.pb.go; then \
		echo "protocol/pb is stale: run make proto and commit the result" >&2; exit 1; \
	fi; echo "proto-check: protocol/pb matches protocol/dashstream.proto"

vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet $(WASM_PKGS) ./wasm/
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l . ; echo "gofmt needed" >&2; exit 1; }

test-native:
	$(GO) test -race -count=1 ./...

test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec wasmbrowsertest $(WASM_PKGS) 2>&1 | { grep -Ev '$(WASM_NOISE)' || true; }

## bench: benchmarks with baselines measured in the same run, natively and (decode, apply loop) in headless
## Chromium, ending with one table of every figure (tools/benchtable; also saved in testout/bench.txt).
bench: deps wasm-release
	@mkdir -p testout
	{ $(GO) test -run '^$$' -bench . -benchmem -count=1 ./protocol/... ./server/... ./app/... 2>&1; \
	  GOOS=js GOARCH=wasm $(GO) test -exec wasmbrowsertest -run '^$$' -bench . -benchmem -count=1 ./protocol/ ./protocol/statehash/ ./protocol/runstate/ 2>&1 | { grep -Ev '$(WASM_NOISE)' || true; }; \
	} | $(GO) run ./tools/benchtable -wasm web/app.wasm.br | tee testout/bench.txt

## soak: the gateway process with the demo, Redis and a 1 MiB log for SOAK (default 30m): RSS, fds and goroutines stay flat, every record is accounted for.
SOAK ?= 30m
soak: deps
	DASHSTREAM_SOAK=$(SOAK) $(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v ./server/ 2>&1 | grep -E '^(=== RUN|--- |\s+soak_test|ok|FAIL|PASS)'

clean:
	rm -f web/app.wasm web/app.wasm.br web/app.wasm.gz web/app.wasm.tmp web/app.wasm.best
