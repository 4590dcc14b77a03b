//! `scripts/test.sh`'s reporting (format in `conformance::results`):
//! `test-summary cargo OUTPUT JOB` turns saved `cargo test` output into
//! `target/test-results/JOB.txt`; `test-summary report` prints the skips, the failures and the
//! line `N passed, N failed, N skipped`, and fails when a test failed, or when anything was
//! skipped although `../shared` is present.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use conformance::paths::repo_root;
use conformance::results::{from_cargo, Summary};
use conformance::skip::results_dir;

fn run(args: &[String]) -> Result<bool, String> {
    let dir = results_dir();
    match args {
        [cmd, output, job] if cmd == "cargo" => {
            let text = std::fs::read_to_string(output).map_err(|e| format!("{output}: {e}"))?;
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let file = dir.join(format!("{job}.txt"));
            std::fs::write(&file, from_cargo(&text))
                .map_err(|e| format!("{}: {e}", file.display()))?;
            Ok(true)
        }
        [cmd] if cmd == "report" => {
            let summary = Summary::read_dir(&dir)?;
            let shared = repo_root().join("../shared").is_dir();
            let (report, ok) = summary.report(!shared);
            print!("{report}");
            Ok(ok)
        }
        _ => Err("usage: test-summary cargo OUTPUT JOB | test-summary report".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("test-summary: {e}");
            ExitCode::from(2)
        }
    }
}
