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

.PHONY: run test wasm proto bench soak deps deps-run vet proto-check test-native test-wasm clean

## run: build the dashboard and start it on http://localhost:8080 (embedded default).
run: deps-run wasm
	$(GO) run ./server

## test: install what is missing, then vet, proto check, native tests (-race) and browser tests.
test: deps proto-check vet test-native test-wasm

deps:
	@tools/deps.sh test

deps-run:
	@tools/deps.sh run

# Inlining copies code into every caller: in app.wasm it costs more than it
# gives everywhere but on the message path (decode, apply, hash), which keeps
# it. This keeps app.wasm under 2.5 MB of brotli (the budget of issue 7).
WASM_HOT := github.com/dashstream/dashstream/protocol/... github.com/dashstream/dashstream/app/session \
	google.golang.org/protobuf/... github.com/klauspost/compress/... github.com/tidwall/... \
	crypto/... runtime strconv bytes unicode/... math/... sort slices internal/... sync/...
WASM_GCFLAGS := -gcflags=all=-l $(foreach p,$(WASM_HOT),-gcflags=$(p)=)

## wasm: build ./wasm into web/app.wasm plus web/app.wasm.br and .gz (recompressed only when it changed).
wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' $(WASM_GCFLAGS) -o web/app.wasm.tmp ./wasm
	@if cmp -s web/app.wasm.tmp web/app.wasm && [ -f web/app.wasm.br ] && [ -f web/app.wasm.gz ]; then \
		rm web/app.wasm.tmp; \
	else \
		mv web/app.wasm.tmp web/app.wasm; \
		echo "compressing web/app.wasm"; \
		gzip -9 -k -f web/app.wasm; \
		if command -v brotli >/dev/null; then brotli -f -q 11 -o web/app.wasm.br web/app.wasm; \
		else echo "brotli not installed: web/app.wasm.br not built" >&2; rm -f web/app.wasm.br; fi; \
	fi

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

## bench: benchmarks with baselines measured in the same run, natively and (decode, apply loop) in headless Chromium.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./protocol/... ./server/... ./app/...
	GOOS=js GOARCH=wasm $(GO) test -exec wasmbrowsertest -run '^$$' -bench . -benchmem -count=1 ./protocol/ ./protocol/runstate/ 2>&1 | { grep -Ev '$(WASM_NOISE)' || true; }

## soak: the gateway process with the demo, Redis and a 1 MiB log for SOAK (default 30m): RSS, fds and goroutines stay flat, every record is accounted for.
SOAK ?= 30m
soak: deps
	DASHSTREAM_SOAK=$(SOAK) $(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v ./server/ 2>&1 | grep -E '^(=== RUN|--- |\s+soak_test|ok|FAIL|PASS)'

clean:
	rm -f web/app.wasm web/app.wasm.br web/app.wasm.gz web/app.wasm.tmp
