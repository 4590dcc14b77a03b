#!/usr/bin/env bash
#! Builds or runs the cargo-fuzz targets with the nightly toolchain (installs cargo-fuzz).
#! usage: scripts/fuzz.sh build            build every target
#!        scripts/fuzz.sh run TARGET SECS  run one target for SECS seconds from its seed corpus,
#!                                         then print one line: the coverage it reached
#! The demux target's C is compiled by clang (libFuzzer coverage): installed here if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "fuzz: clang is needed (Debian package clang)" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install --quiet --locked cargo-fuzz
fi
case "${1:-build}" in
  build) cargo +nightly fuzz build --fuzz-dir fuzz ;;
  run)
    t=${2:?target}; secs=${3:-60}
    work=$(mktemp -d)
    cp -r "fuzz/seeds/$t/." "$work/" 2>/dev/null || true
    log=$(mktemp)
    # The demux target writes its seeds (one request per routine) into the corpus first.
    set +e
    MIGC_FUZZ_SEED_DIR="$work" cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$work" -- \
      -max_total_time="$secs" >"$log" 2>&1
    status=$?
    set -e
    grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)' "$log" | tail -40
    grep -hE '^demux(_obj)? seeds:' "$log" || true
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    stats=$(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' || echo 'no stats')
    runs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#')
    echo "fuzz $t: ${secs}s, ${runs:-0} inputs, $stats, seeds $(ls "$work" | grep -c '^seed-' || true), exit $status"
    rm -f "$log"
    exit "$status" ;;
  *) echo "usage: $0 build | run TARGET SECS" >&2; exit 2 ;;
esac
