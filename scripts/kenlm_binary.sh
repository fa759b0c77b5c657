#!/usr/bin/env bash
# Convert the character LM from ARPA text to KenLM's binary trie, which the decoder memory-maps in under a
# millisecond instead of parsing the text for ~0.14 s CPU at every start (the scores are the same).
# build_binary is compiled once from KenLM's source (kpu/kenlm at a pinned commit; g++ and zlib; the same KenLM
# that flashlight-text bundles reads the file) and cached under ~/.cache/htr-desktop/kenlm.
# Usage: scripts/kenlm_binary.sh [ARPA (gzipped or not)] [OUT]   (defaults: resources/model/charlm.arpa.gz -> charlm.bin)
# KENLM_SRC=DIR uses a KenLM checkout instead of downloading the source archive.
set -euo pipefail

COMMIT=4cb443e60b7bf2c0ddf3c745378f76cb59e254e5
ARPA="${1:-resources/model/charlm.arpa.gz}"
OUT="${2:-resources/model/charlm.bin}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/htr-desktop/kenlm"
TOOL="$CACHE/build_binary-${COMMIT:0:12}"

if [ ! -x "$TOOL" ]; then
  mkdir -p "$CACHE"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  if [ -n "${KENLM_SRC:-}" ]; then
    cp -r "$KENLM_SRC/lm" "$KENLM_SRC/util" "$work/"
  else
    curl -fsSL "https://github.com/kpu/kenlm/archive/$COMMIT.tar.gz" | tar xz -C "$work" --strip-components=1
  fi
  (
    cd "$work"
    sources=$(ls lm/*.cc util/*.cc util/double-conversion/*.cc | grep -v -E '_test\.cc$|_main\.cc$')
    # shellcheck disable=SC2086
    g++ -O2 -std=c++17 -DKENLM_MAX_ORDER=6 -DHAVE_ZLIB -I. $sources lm/build_binary_main.cc \
      -o "$TOOL.tmp" -lz -lpthread
  )
  mv "$TOOL.tmp" "$TOOL"
fi
"$TOOL" -S 64M trie "$ARPA" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT: $(stat -c %s "$OUT") bytes (KenLM trie from $ARPA)"
