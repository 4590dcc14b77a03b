#!/usr/bin/env bash
#! Runs every test of the project: formatting and lints, the compiler workspace's tests (unit,
#! snapshot, corpus and reference conformance, GNU Mach boots), the kernel's QEMU suite, the
#! fuzz targets' build and a 20-second run of the demux_obj target. Installs what it needs first
#! (scripts/setup.sh). Every step runs even when an earlier one failed; the run ends with one summary line and fails when any test failed.
#!
#! Results: every job writes target/test-results/<job>.txt ($TEST_RESULTS_DIR), one line per
#! test, NAME without spaces:
#!     pass NAME
#!     fail NAME [REASON]
#!     skip NAME REASON
#! A name may appear in several files; the strongest line wins (fail, then skip, then pass), so
#! a cargo test that recorded a skip (conformance::skip, into cargo-skips.txt) counts as skipped
#! although cargo reports it passed. Writers today:
#!     steps.txt            this script: one line per step (`step::NAME`), from its exit status
#!     workspace.txt        `cargo test` output converted by `test-summary cargo`
#!                          (`<test binary>::<test>`; ignored tests are skips)
#!     cargo-skips.txt      tests whose material may be absent (the corpus without ../shared)
#!     kernel-<boot>.txt    `cargo xtask test` (`kernel[<boot>]::<test>`, whole-run problems as
#!                          `kernel[<boot>]::run`): pvh, pvh-pit, multiboot2
#! A new suite (say a differential GNU Mach / Mach_R boot suite) writes its own
#! target/test-results/<job>.txt in this format and adds a `run_step` line below.
#! The last step, `test-summary report` (conformance/src/bin/test-summary.rs), lists the skips
#! and failures with their reasons and prints `N passed, N failed, N skipped`; with ../shared
#! present (CI) any skip is a failure too.
set -uo pipefail
cd "$(dirname "$0")/.."
export TEST_RESULTS_DIR="$PWD/target/test-results"
rm -rf "$TEST_RESULTS_DIR"
mkdir -p "$TEST_RESULTS_DIR"
step() { printf '\n==> %s\n' "$*"; }

# run_step NAME COMMAND...: runs COMMAND, records `pass|fail step::NAME` and goes on.
run_step() {
  local name=$1 status=0
  shift
  step "$name"
  "$@" || status=$?
  if [ "$status" -eq 0 ]; then
    echo "pass step::$name" >>"$TEST_RESULTS_DIR/steps.txt"
  else
    echo "fail step::$name exit status $status" >>"$TEST_RESULTS_DIR/steps.txt"
  fi
}

# migc's `obj` feature (the Cranelift object back end, `--emit obj`) is on for the tests and
# lints: mig-backend-obj is a workspace member and built anyway, so the feature costs only
# linking it into migc (measured: see README, "The object back end").
OBJ_FEATURE=(--features migc/obj)

workspace_tests() {
  cargo test --workspace "${OBJ_FEATURE[@]}" --no-fail-fast 2>&1 | tee target/test-output.txt
  local status=${PIPESTATUS[0]}
  cargo run --quiet -p conformance --bin test-summary -- cargo target/test-output.txt workspace
  return "$status"
}

step "setup (Debian packages, reference systems)"
bash scripts/setup.sh || { echo "setup failed" >&2; exit 1; }

run_step format cargo fmt --all -- --check
run_step clippy cargo clippy --workspace "${OBJ_FEATURE[@]}" --all-targets --quiet -- -D warnings
run_step workspace-tests workspace_tests

if [ -d kernel ]; then
  run_step kernel-format bash -c 'cd kernel && cargo fmt --all -- --check'
  run_step kernel-clippy bash -c 'cd kernel && cargo clippy --all-targets --quiet -- -D warnings'
  run_step kernel-tests-pvh cargo xtask test
  run_step kernel-tests-grub cargo xtask test --grub
fi

if [ -d fuzz ]; then
  run_step fuzz-build bash scripts/fuzz.sh build
  # The object server against the C server of mach.defs: same answers on every input.
  run_step fuzz-demux-obj bash scripts/fuzz.sh run demux_obj 20
fi

step "summary"
cargo run --quiet -p conformance --bin test-summary -- report
