#!/usr/bin/env bash
# Installs what the Makefile needs and is missing, on Debian as root (or with
# sudo). `deps.sh run` installs what `make run` needs; `deps.sh test` what
# `make test` needs. Already-present tools are left alone, so this is fast
# after the first time.
set -euo pipefail

what=${1:-test}
PROTOC_GEN_GO_VERSION=v1.36.12
WASMBROWSERTEST_VERSION=v0.11.0

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }

have brotli || need_apt+=(brotli)
if [ "$what" = test ]; then
  have chromium || need_apt+=(chromium)
  have redis-server || need_apt+=(redis-server)
  have protoc || need_apt+=(protobuf-compiler)
  # Node runs the JavaScript peers of tests and benchmarks (tools/js), never the product.
  have node || need_apt+=(nodejs)
  have npm || need_apt+=(npm)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]} with apt-get" >&2
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if have sudo; then sudo=sudo; else
      echo "deps: missing ${need_apt[*]}; run as root or install them with apt-get" >&2
      exit 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

[ "$what" = test ] || exit 0

gobin=$(go env GOPATH)/bin
# go_tool NAME MODULE@VERSION: installs the tool unless that version is there.
go_tool() {
  local name=$1 pkg=$2 version=${2##*@}
  if [ -x "$gobin/$name" ] && go version -m "$gobin/$name" 2>/dev/null | grep -q "[[:space:]]$version\b"; then
    return
  fi
  echo "deps: go install $pkg" >&2
  # Installed on its own (outside our go.mod): wasmbrowsertest pins an older
  # chromedp than the one this module uses.
  GOFLAGS=-buildvcs=false go install "$pkg"
}
go_tool protoc-gen-go "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
go_tool wasmbrowsertest "github.com/agnivade/wasmbrowsertest@$WASMBROWSERTEST_VERSION"

# tools/js: the npm packages of the JavaScript peers, exactly as the lock file pins them;
# reinstalled only when the lock file changed since the last install.
js=$(dirname "$0")/js
if [ ! -f "$js/node_modules/.package-lock.json" ] || ! cmp -s "$js/package-lock.json" "$js/node_modules/.deps-lock"; then
  echo "deps: npm ci in tools/js" >&2
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.deps-lock)
fi
