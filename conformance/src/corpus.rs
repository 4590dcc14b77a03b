//! Where the `.defs` corpora live and how each family is preprocessed: the dialect, include
//! roots and macros that make its files compile, as documented in `../shared/corpus/README.md`.

use std::path::{Path, PathBuf};

use crate::paths::reference_include;

pub use crate::paths::{corpus_dir, reference_root, repo_root};

/// A family of `.defs` files and how to compile them.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: &'static str,
    pub dialect: &'static str,
    /// Directory holding the files (searched recursively).
    pub dir: PathBuf,
    pub include_dirs: Vec<PathBuf>,
    pub defines: Vec<&'static str>,
}

/// The GNU family: gnumach-dev from the fetched reference set (no corpus needed).
pub fn gnu_family() -> Family {
    let gnu = reference_include(&reference_root().unwrap_or_else(|e| panic!("{e}")));
    Family {
        name: "gnumach-dev",
        dialect: "gnu",
        dir: gnu.clone(),
        include_dirs: vec![gnu],
        defines: vec![],
    }
}

/// The families of `../shared/corpus`: Apple (XNU) and OSF (MkLinux).
///
/// OSF's build linked `mach/machine` to the architecture's directory (`mach/ppc` for the
/// PowerMac export); the corpus does not carry that link, so a scratch include root under
/// `scratch` recreates it. Nothing is written into the corpus.
pub fn corpus_families(corpus: &Path, scratch: &Path) -> Vec<Family> {
    let osf_export = corpus.join("osfmk-mklinux/osfmk/export/powermac/include");
    let machine_root = scratch.join("osf-machine-link");
    let link = machine_root.join("mach/machine");
    if !link.exists() {
        std::fs::create_dir_all(machine_root.join("mach")).expect("scratch dir");
        #[cfg(unix)]
        std::os::unix::fs::symlink(osf_export.join("mach/ppc"), &link).expect("machine link");
    }
    vec![
        Family {
            name: "xnu",
            dialect: "apple",
            dir: corpus.join("xnu"),
            include_dirs: vec![
                corpus.join("include"),
                corpus.join("xnu/osfmk"),
                corpus.join("xnu/libsyscall"),
            ],
            defines: vec!["__MACH30__"],
        },
        Family {
            name: "osfmk-mklinux",
            dialect: "osf",
            dir: corpus.join("osfmk-mklinux"),
            include_dirs: vec![
                corpus.join("include"),
                corpus.join("osfmk-mklinux/osfmk/src/mach_kernel"),
                osf_export.clone(),
                corpus.join("osfmk-mklinux/osfmk/src"),
                machine_root,
            ],
            defines: vec![],
        },
    ]
}

/// The three families: GNU ([`gnu_family`]) and those of the corpus ([`corpus_families`]).
pub fn families(corpus: &Path, scratch: &Path) -> Vec<Family> {
    let mut all = vec![gnu_family()];
    all.extend(corpus_families(corpus, scratch));
    all
}

/// Every `.defs` file under `dir`, sorted, not following directory links.
pub fn defs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            // Directory links (gnumach-dev's `mach/machine` -> `x86_64`) would count files twice.
            let is_link = e.file_type().is_ok_and(|t| t.is_symlink());
            if p.is_dir() && !is_link {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "defs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// True when a file declares a subsystem (the others are type-only includes).
pub fn declares_subsystem(path: &Path) -> bool {
    let Ok(text) = std::fs::read(path) else {
        return false;
    };
    String::from_utf8_lossy(&text).lines().any(|l| {
        let l = l.trim_start();
        l.len() >= 9 && l[..9].eq_ignore_ascii_case("subsystem")
    })
}
