#!/usr/bin/env bash
#! Runs every test of the project: formatting and lints, the compiler workspace's tests (unit,
#! snapshot, corpus and reference conformance, GNU Mach boots), the kernel's QEMU suite, and the
#! fuzz targets' build. Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "setup (Debian packages, reference systems)"
bash scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "clippy (compiler workspace)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "tests (compiler workspace)"
cargo test --workspace --quiet 2>&1 | tee target/test-output.txt
grep -E '^test result: ' target/test-output.txt | awk '{p+=$4; f+=$6} END {print "workspace: " p " passed, " f " failed"}'

if [ -d kernel ]; then
  step "kernel: format, clippy, QEMU test suite"
  (cd kernel && cargo fmt --all -- --check && cargo clippy --all-targets --quiet -- -D warnings)
  cargo xtask test
  step "kernel: second boot path (GRUB Multiboot2 ISO)"
  cargo xtask test --grub
fi

if [ -d fuzz ]; then
  step "fuzz targets build (nightly, AddressSanitizer)"
  bash scripts/fuzz.sh build
fi
echo "all tests passed"
