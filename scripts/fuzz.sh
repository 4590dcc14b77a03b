#!/usr/bin/env bash
#! Builds or runs the cargo-fuzz targets with the nightly toolchain (installs cargo-fuzz).
#! usage: scripts/fuzz.sh build            build every target
#!        scripts/fuzz.sh run TARGET SECS  run one target for SECS seconds from its seed corpus
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install --quiet --locked cargo-fuzz
fi
case "${1:-build}" in
  build) cargo +nightly fuzz build --fuzz-dir fuzz ;;
  run)
    t=${2:?target}; secs=${3:-60}
    work=$(mktemp -d)
    cp -r "fuzz/seeds/$t/." "$work/" 2>/dev/null || true
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$work" -- -max_total_time="$secs" ;;
  *) echo "usage: $0 build | run TARGET SECS" >&2; exit 2 ;;
esac
