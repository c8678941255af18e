#!/usr/bin/env bash
# wasmzip.sh fast|best FILE: writes FILE.gz and FILE.br (when brotli is
# installed) unless they already decompress to FILE as it is now. `fast`
# (make wasm, make run) takes about a second on app.wasm; `best` (make
# wasm-release, and make run in the background) about a minute, for ~17% less
# brotli. Each output is written to a temporary file and renamed; the server
# serves a sibling only when it decompresses to FILE (server/assets), so a
# stale or half-written one is never served.
set -euo pipefail
level=${1:-} file=${2:-}
case $level in
  fast) gz=6 br=5 ;;
  best) gz=9 br=11 ;;
  *) echo "usage: $0 fast|best FILE" >&2; exit 2 ;;
esac
[ -f "$file" ] || { echo "$0: $file is missing" >&2; exit 1; }
have_brotli=false
command -v brotli >/dev/null && have_brotli=true

# matches SIBLING TOOL: SIBLING is the compression of FILE as it is now.
matches() { [ -f "$1" ] && "$2" -dc "$1" 2>/dev/null | cmp -s - "$file"; }
fresh() { matches "$file.gz" gzip && { ! $have_brotli || matches "$file.br" brotli; }; }
# FILE.best holds the SHA-256 of the content whose siblings were made at the best level.
sum=$(sha256sum "$file" | cut -d' ' -f1)
if [ "$level" = best ]; then
  [ "$(cat "$file.best" 2>/dev/null)" = "$sum" ] && fresh && exit 0
else
  fresh && exit 0
fi

tmp=$(mktemp -d "$(dirname "$file")/.wasmzip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$file" "$tmp/src" # a snapshot: FILE may be rebuilt meanwhile
echo "compressing $file ($level)"
gzip -"$gz" -c "$tmp/src" >"$tmp/gz"
if $have_brotli; then brotli -q "$br" -c "$tmp/src" >"$tmp/br"
else echo "brotli not installed: $file.br not built" >&2; rm -f "$file.br"; fi
if ! cmp -s "$tmp/src" "$file"; then
  echo "$file changed while it was compressed: not published" >&2
  exit 0
fi
mv "$tmp/gz" "$file.gz"
if $have_brotli; then mv "$tmp/br" "$file.br"; fi
if [ "$level" = best ]; then echo "$sum" >"$file.best"; else rm -f "$file.best"; fi
