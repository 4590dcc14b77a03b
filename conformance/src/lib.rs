//! Shared helpers for the conformance tests: where the corpus and the reference set live
//! ([`paths`]), visible skips ([`skip`]) and the results format of `scripts/test.sh` ([`results`]).

pub mod corpus;
pub mod gnumach;
pub mod harness;
pub mod paths;
pub mod results;
pub mod skip;
pub mod suite;

/// Runs `cmd` with `input` on its standard input; returns its status and captured output.
pub fn run_with_stdin(mut cmd: std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}
