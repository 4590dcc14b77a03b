//! Running a built harness program and reading what it printed.

use std::process::Command;

use super::build::HarnessBuild;

/// What one harness program printed.
#[derive(Debug, Clone, Default)]
pub struct HarnessRun {
    pub exit_ok: bool,
    pub stdout: String,
    /// `fail` lines.
    pub failures: Vec<String>,
    /// `malformed` lines.
    pub malformed: Vec<String>,
    /// `call` lines.
    pub calls: Vec<String>,
    /// The byte records (`request`, `reply`, `*-ool`, `oneway` lines), for comparing two MIGs.
    pub wire: Vec<String>,
}

/// Runs a built harness program.
pub fn run_harness(build: &HarnessBuild) -> Result<HarnessRun, String> {
    if !build.built {
        return Err(format!(
            "the {} harness did not build:\n{}",
            build.generated.subsystem, build.warnings
        ));
    }
    let output = Command::new(&build.program)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", build.program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut run = HarnessRun {
        exit_ok: output.status.success(),
        ..HarnessRun::default()
    };
    for line in stdout.lines() {
        let kind = line.split(' ').next().unwrap_or("");
        match kind {
            "fail" => run.failures.push(line.to_string()),
            "malformed" => run.malformed.push(line.to_string()),
            "call" => run.calls.push(line.to_string()),
            "request" | "reply" | "request-ool" | "reply-ool" | "oneway" => {
                run.wire.push(line.to_string())
            }
            _ => {}
        }
    }
    if !output.status.success() && run.failures.is_empty() {
        run.failures.push(format!(
            "the program ended with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    run.stdout = stdout;
    Ok(run)
}

/// Compares the byte records of two runs of the same subsystem (say GNU client + GNU server
/// against migc client + GNU server): the lines that differ, as `left` / `right` pairs.
/// Masked bytes (`..`) are part of the line, so a different message layout also differs.
pub fn compare_wire(left: &HarnessRun, right: &HarnessRun) -> Vec<(String, String)> {
    let mut diffs = Vec::new();
    let n = left.wire.len().max(right.wire.len());
    for i in 0..n {
        let l = left.wire.get(i).cloned().unwrap_or_default();
        let r = right.wire.get(i).cloned().unwrap_or_default();
        if l != r {
            diffs.push((l, r));
        }
    }
    diffs
}
