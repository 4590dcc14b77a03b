//! The `build.rs` API: compile `.defs` files into Rust stubs in `OUT_DIR`, in the style of
//! prost-build.
//!
//! ```no_run
//! // build.rs, in `fn main()`:
//! mig_backend_rust::Builder::new()
//!     .include("/usr/include/x86_64-linux-gnu")
//!     .client("/usr/include/x86_64-linux-gnu/mach/mach.defs")
//!     .server("/usr/include/x86_64-linux-gnu/mach/notify.defs")
//!     .compile()
//!     .unwrap();
//! // src/lib.rs: pub mod mach { include!(concat!(env!("OUT_DIR"), "/mach.rs")); }
//! ```
//!
//! Each file becomes `<subsystem>.rs` in the output directory (`OUT_DIR` unless
//! [`Builder::out_dir`] says otherwise). Every file read, includes too, is printed as
//! `cargo:rerun-if-changed=PATH` (unless [`Builder::emit_rerun_if_changed`] is off). Output
//! is deterministic: the same inputs give the same bytes.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Options;

/// Compiles `.defs` files to Rust stubs.
#[derive(Debug, Clone)]
pub struct Builder {
    files: Vec<(PathBuf, Options)>,
    include_dirs: Vec<PathBuf>,
    defines: Vec<(String, Option<String>)>,
    target: String,
    out_dir: Option<PathBuf>,
    rerun: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The subsystem name (the file is `<subsystem>.rs`).
    pub subsystem: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Every file read to make it (the `.defs` file and its includes), in the order read.
    pub files_read: Vec<PathBuf>,
}

/// Why a build failed: diagnostics of the front end or the IR, rendered, or an I/O error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub file: PathBuf,
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

impl std::error::Error for BuildError {}

impl Builder {
    pub fn new() -> Self {
        Builder {
            files: Vec::new(),
            include_dirs: Vec::new(),
            defines: Vec::new(),
            target: "x86_64-gnu".into(),
            out_dir: None,
            rerun: true,
        }
    }

    /// Client stubs for `defs`.
    pub fn client(mut self, defs: impl AsRef<Path>) -> Self {
        self.add(defs, true, false);
        self
    }

    /// The server trait and dispatch for `defs`.
    pub fn server(mut self, defs: impl AsRef<Path>) -> Self {
        self.add(defs, false, true);
        self
    }

    /// Both sides for `defs`.
    pub fn both(mut self, defs: impl AsRef<Path>) -> Self {
        self.add(defs, true, true);
        self
    }

    fn add(&mut self, defs: impl AsRef<Path>, client: bool, server: bool) {
        let p = defs.as_ref().to_path_buf();
        match self.files.iter_mut().find(|(f, _)| *f == p) {
            Some((_, o)) => {
                o.client |= client;
                o.server |= server;
            }
            None => self.files.push((p, Options { client, server })),
        }
    }

    /// A directory searched by `#include` (`-I`).
    pub fn include(mut self, dir: impl AsRef<Path>) -> Self {
        self.include_dirs.push(dir.as_ref().to_path_buf());
        self
    }

    /// A preprocessor definition (`-D NAME[=VALUE]`).
    pub fn define(mut self, name: &str, value: Option<&str>) -> Self {
        self.defines
            .push((name.to_string(), value.map(str::to_string)));
        self
    }

    /// The target (default `x86_64-gnu`, the only one the Rust back end supports).
    pub fn target(mut self, name: &str) -> Self {
        self.target = name.to_string();
        self
    }

    /// Where to write (default: `OUT_DIR`).
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default: yes).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.rerun = on;
        self
    }

    /// Generates every file (rewriting a file only when its text changed).
    pub fn compile(self) -> Result<Vec<Generated>, BuildError> {
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| BuildError {
                    file: PathBuf::new(),
                    message: "OUT_DIR is not set (not in a build script?): use out_dir()".into(),
                })?,
        };
        let mut written = Vec::new();
        for (path, opts) in &self.files {
            let (name, text, read) = self.generate_one(path, opts)?;
            if self.rerun {
                for f in &read {
                    println!("cargo:rerun-if-changed={}", f.display());
                }
            }
            let dest = out_dir.join(format!("{name}.rs"));
            let err = |e: std::io::Error| BuildError {
                file: dest.clone(),
                message: format!("cannot write: {e}"),
            };
            std::fs::create_dir_all(&out_dir).map_err(err)?;
            // Rewrite only when different, so dependants are not rebuilt for nothing.
            if std::fs::read_to_string(&dest).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&dest, &text).map_err(err)?;
            }
            written.push(Generated {
                subsystem: name,
                path: dest,
                files_read: read,
            });
        }
        Ok(written)
    }

    /// `(subsystem name, text, files read)` of one `.defs` file.
    fn generate_one(
        &self,
        path: &Path,
        opts: &Options,
    ) -> Result<(String, String, Vec<PathBuf>), BuildError> {
        let fail = |message: String| BuildError {
            file: path.to_path_buf(),
            message,
        };
        let target = mig_ir::Target::by_name(&self.target)
            .ok_or_else(|| fail(format!("unknown target `{}`", self.target)))?;
        let mut fo = mig_frontend::FrontendOptions::default();
        fo.pp.include_dirs = self.include_dirs.clone();
        fo.pp.predefined =
            mig_frontend::preprocess::predefined_macros(target.name).unwrap_or_default();
        for (n, v) in &self.defines {
            fo.pp
                .predefined
                .push((n.clone(), v.clone().unwrap_or_else(|| "1".into())));
        }
        let parsed = mig_frontend::parse_path(path, &fo);
        let mut read: Vec<PathBuf> = parsed.files_read.clone();
        if !read.iter().any(|p| p == path) {
            read.insert(0, path.to_path_buf());
        }
        let lowered = mig_ir::lower(&parsed.file, target);
        let module = match lowered.module {
            Some(m) if !parsed.has_errors() => m,
            _ => {
                let mut diags = parsed.diagnostics.clone();
                diags.extend(lowered.diagnostics.iter().map(|d| parsed.locate(d)));
                let mut text = mig_frontend::diagnostics::render_plain(&parsed.db, &diags);
                if text.trim().is_empty() {
                    text = "the interface could not be lowered".into();
                }
                return Err(fail(text));
            }
        };
        let text = crate::generate(&module, opts).map_err(|e| {
            fail(
                e.iter()
                    .map(|u| u.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        Ok((module.module().subsystem.name.clone(), text, read))
    }
}
