//! The results format of `scripts/test.sh` and its summary.
//!
//! Every job writes `target/test-results/<job>.txt`, one line per test:
//! `pass NAME`, `fail NAME [REASON]` or `skip NAME REASON` (NAME has no spaces). A name may
//! appear more than once (a cargo test that recorded a skip is also reported passed by
//! cargo); the strongest line wins: fail, then skip, then pass. [`from_cargo`] turns `cargo
//! test` output into such lines; [`Summary`] reads every file and prints the last lines of
//! the run: the skips and failures with their reasons, and `N passed, N failed, N skipped`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// A test's outcome, ordered by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Skip,
    Fail,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Fail => "fail",
        }
    }
}

/// One line of a results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub status: Status,
    pub name: String,
    pub reason: String,
}

/// Parses one results line; `None` for an empty line or a `#` comment, `Err` for garbage.
pub fn parse_line(line: &str) -> Option<Result<Line, String>> {
    let line = line.trim_end();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut words = line.splitn(3, ' ');
    let status = match words.next() {
        Some("pass") => Status::Pass,
        Some("fail") => Status::Fail,
        Some("skip") => Status::Skip,
        _ => return Some(Err(format!("not a results line: `{line}`"))),
    };
    let Some(name) = words.next().filter(|n| !n.is_empty()) else {
        return Some(Err(format!("results line without a name: `{line}`")));
    };
    let reason = words.next().unwrap_or("").to_string();
    if status == Status::Skip && reason.is_empty() {
        return Some(Err(format!("skip without a reason: `{line}`")));
    }
    Some(Ok(Line {
        status,
        name: name.to_string(),
        reason,
    }))
}

/// Results lines from the output of `cargo test` (not `--quiet`): each `test NAME ... ok`,
/// `FAILED` or `ignored` line, named `<test binary>::NAME` after the `Running` line above it
/// (`Doc-tests <crate>` for doc tests). Ignored tests are skips with cargo's reason; a test
/// binary that started and printed no result (a crash) is a failure.
pub fn from_cargo(output: &str) -> String {
    let mut out = String::new();
    let mut binary: Option<String> = None;
    let mut reported = true;
    let flush_crash = |binary: &Option<String>, reported: bool, out: &mut String| {
        if let (Some(b), false) = (binary, reported) {
            let _ = writeln!(
                out,
                "fail {b}::(binary) no `test result` line: it crashed or was killed"
            );
        }
    };
    for line in output.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Running ") {
            flush_crash(&binary, reported, &mut out);
            // `Running tests/x.rs (target/debug/deps/x-0123abcd)` or `Running unittests ...`
            let file = rest
                .rsplit_once('(')
                .map(|(_, f)| f.trim_end_matches(')'))
                .unwrap_or(rest);
            let stem = Path::new(file)
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = match stem.rsplit_once('-') {
                Some((n, h)) if h.chars().all(|c| c.is_ascii_hexdigit()) => n.to_string(),
                _ => stem,
            };
            binary = Some(name);
            reported = false;
        } else if let Some(krate) = t.strip_prefix("Doc-tests ") {
            flush_crash(&binary, reported, &mut out);
            binary = Some(format!("doc:{}", krate.trim()));
            reported = false;
        } else if t.starts_with("test result: ") {
            reported = true;
        } else if let Some(rest) = t.strip_prefix("test ") {
            let Some((name, verdict)) = rest.rsplit_once(" ... ") else {
                continue;
            };
            let name: String = name.split_whitespace().collect::<Vec<_>>().join("_");
            let full = format!("{}::{name}", binary.as_deref().unwrap_or("cargo"));
            let verdict = verdict.trim();
            if verdict == "ok" {
                let _ = writeln!(out, "pass {full}");
            } else if verdict.starts_with("FAILED") {
                let _ = writeln!(out, "fail {full}");
            } else if let Some(why) = verdict.strip_prefix("ignored") {
                let why = why.trim_start_matches(',').trim();
                let why = if why.is_empty() { "#[ignore]" } else { why };
                let _ = writeln!(out, "skip {full} {why}");
            }
        }
    }
    flush_crash(&binary, reported, &mut out);
    out
}

/// Every test of a run, by name, with its strongest line.
#[derive(Debug, Default)]
pub struct Summary {
    pub tests: BTreeMap<String, Line>,
    /// Lines that were not results lines (each one is a failure of the summary).
    pub garbage: Vec<String>,
}

impl Summary {
    /// Adds the lines of one results file.
    pub fn add(&mut self, file: &str, text: &str) {
        for l in text.lines() {
            match parse_line(l) {
                None => {}
                Some(Err(e)) => self.garbage.push(format!("{file}: {e}")),
                Some(Ok(line)) => match self.tests.get(&line.name) {
                    Some(old) if old.status >= line.status => {}
                    _ => {
                        self.tests.insert(line.name.clone(), line);
                    }
                },
            }
        }
    }

    /// Reads every `*.txt` file of `dir`.
    pub fn read_dir(dir: &Path) -> Result<Summary, String> {
        let mut s = Summary::default();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            s.add(&f.display().to_string(), &text);
        }
        Ok(s)
    }

    pub fn count(&self, status: Status) -> usize {
        self.tests.values().filter(|l| l.status == status).count()
    }

    /// The report: skipped and failed tests with reasons, then the one summary line.
    /// `skips_allowed` is false where every material is present (`../shared` exists), and
    /// then any skip is also reported as a failure of the run.
    pub fn report(&self, skips_allowed: bool) -> (String, bool) {
        let mut out = String::new();
        for status in [Status::Skip, Status::Fail] {
            let list: Vec<&Line> = self.tests.values().filter(|l| l.status == status).collect();
            if !list.is_empty() {
                let _ = writeln!(
                    out,
                    "{} {}:",
                    list.len(),
                    if status == Status::Skip {
                        "skipped"
                    } else {
                        "failed"
                    }
                );
            }
            for l in list {
                let _ = writeln!(out, "  {} {} {}", l.status.word(), l.name, l.reason);
            }
        }
        for g in &self.garbage {
            let _ = writeln!(out, "  bad results line: {g}");
        }
        let (passed, failed, skipped) = (
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skip),
        );
        let mut ok = failed == 0 && self.garbage.is_empty() && passed > 0;
        if !skips_allowed && skipped > 0 {
            let _ = writeln!(
                out,
                "../shared is present, so nothing may be skipped: {skipped} skipped counts as a failure"
            );
            ok = false;
        }
        let _ = writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped");
        (out, ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO: &str = "\
   Compiling conformance v0.1.0
     Running unittests src/lib.rs (target/debug/deps/conformance-6c11dedfd08f569f)

running 2 tests
test results::tests::a ... ok
test harness::x ... ignored, needs QEMU
test result: ok. 1 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out

     Running tests/corpus_check.rs (target/debug/deps/corpus_check-0123456789abcdef)

running 2 tests
test every_subsystem_file_passes_check ... ok
test gnu_files_pass_check ... FAILED
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out

     Running tests/crash.rs (target/debug/deps/crash-00aa)

running 1 test
   Doc-tests conformance

running 1 test
test conformance/src/lib.rs - run_with_stdin (line 7) ... ok
test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out
";

    #[test]
    fn cargo_output_becomes_results_lines() {
        assert_eq!(
            from_cargo(CARGO),
            "pass conformance::results::tests::a\n\
             skip conformance::harness::x needs QEMU\n\
             pass corpus_check::every_subsystem_file_passes_check\n\
             fail corpus_check::gnu_files_pass_check\n\
             fail crash::(binary) no `test result` line: it crashed or was killed\n\
             pass doc:conformance::conformance/src/lib.rs_-_run_with_stdin_(line_7)\n"
        );
    }

    #[test]
    fn a_recorded_skip_overrides_the_pass_and_a_failure_overrides_both() {
        let mut s = Summary::default();
        s.add("workspace.txt", &from_cargo(CARGO));
        s.add(
            "cargo-skips.txt",
            "skip corpus_check::every_subsystem_file_passes_check ../shared/corpus is absent\n\
             skip corpus_check::gnu_files_pass_check no reason to win\n",
        );
        s.add(
            "kernel-pvh.txt",
            "pass kernel[pvh]::heap\nfail kernel[pvh]::run QEMU timed out\n",
        );
        assert_eq!(
            (
                s.count(Status::Pass),
                s.count(Status::Fail),
                s.count(Status::Skip)
            ),
            (3, 3, 2)
        );
        let (report, ok) = s.report(true);
        assert!(!ok);
        assert!(
            report.ends_with("3 passed, 3 failed, 2 skipped\n"),
            "{report}"
        );
        assert!(report.contains("  skip corpus_check::every_subsystem_file_passes_check ../shared/corpus is absent\n"), "{report}");
        assert!(
            report.contains("  fail kernel[pvh]::run QEMU timed out\n"),
            "{report}"
        );
    }

    /// With `../shared` present (CI), the run must have skipped nothing.
    #[test]
    fn skips_fail_the_run_when_shared_is_present() {
        let mut s = Summary::default();
        s.add("a.txt", "pass a::x\nskip a::y corpus absent\n");
        assert!(s.report(true).1, "skips are allowed without ../shared");
        let (report, ok) = s.report(false);
        assert!(!ok, "{report}");
        assert!(report.contains("nothing may be skipped"));
        assert!(report.ends_with("1 passed, 0 failed, 1 skipped\n"));
    }

    #[test]
    fn malformed_lines_and_empty_runs_fail() {
        let mut s = Summary::default();
        s.add("a.txt", "pass a::x\nskip a::y\nmaybe a::z\n");
        assert_eq!(s.garbage.len(), 2, "{:?}", s.garbage);
        assert!(!s.report(true).1);
        assert!(
            !Summary::default().report(true).1,
            "a run with no test passed nothing"
        );
    }
}
