//! Benchmark (not a test): preprocess and parse every `.defs` file of the three corpora in one
//! process, several rounds, and print files per second and MB per second (bytes read from
//! disk, includes counted each time they are read). Run: `cargo bench -p conformance --bench frontend`.

use std::path::Path;
use std::time::{Duration, Instant};

use conformance::corpus::{corpus_dir, defs_files, families};
use mig_frontend::dialect::Dialect;
use mig_frontend::preprocess::{predefined_macros, MacroAction, PpOptions};
use mig_frontend::{parse_path, FrontendOptions};

fn main() {
    let Some(corpus) = corpus_dir() else {
        println!("corpus absent: ../shared/corpus not found; nothing to measure");
        return;
    };
    let scratch = std::env::temp_dir().join("migc-bench-frontend");
    let mut jobs = Vec::new();
    for f in families(&corpus, &scratch) {
        let opts = FrontendOptions {
            dialect: Dialect::from_name(f.dialect).unwrap_or_default(),
            pp: PpOptions {
                include_dirs: f.include_dirs.clone(),
                macro_actions: f
                    .defines
                    .iter()
                    .map(|d| MacroAction::Define(d.to_string(), None))
                    .collect(),
                predefined: predefined_macros("x86_64-gnu").unwrap_or_default(),
                ..PpOptions::default()
            },
        };
        for file in defs_files(&f.dir) {
            jobs.push((file, opts.clone()));
        }
    }
    // Warm-up round (file cache), then measured rounds.
    let (files, bytes) = round(&jobs);
    let rounds = 5;
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let t = Instant::now();
        let (f2, _) = round(&jobs);
        let e = t.elapsed();
        assert_eq!(f2, files);
        best = best.min(e);
        total += e;
    }
    let mean = total / rounds;
    let mb = bytes as f64 / 1e6;
    println!(
        "front end over the corpora: {files} files, {mb:.2} MB read per round (with includes)"
    );
    println!(
        "  mean {:.1} ms/round: {:.0} files/s, {:.1} MB/s",
        mean.as_secs_f64() * 1e3,
        files as f64 / mean.as_secs_f64(),
        mb / mean.as_secs_f64()
    );
    println!(
        "  best {:.1} ms/round: {:.0} files/s, {:.1} MB/s",
        best.as_secs_f64() * 1e3,
        files as f64 / best.as_secs_f64(),
        mb / best.as_secs_f64()
    );
}

/// Parses every job once; returns files parsed and bytes of source read.
fn round(jobs: &[(std::path::PathBuf, FrontendOptions)]) -> (usize, usize) {
    let mut bytes = 0;
    for (file, opts) in jobs {
        let parsed = parse_path(Path::new(file), opts);
        bytes += parsed.db.iter().map(|(_, f)| f.text.len()).sum::<usize>();
        std::hint::black_box(&parsed.file);
    }
    (jobs.len(), bytes)
}
