//! Unsaved buffers of included files: the preprocessor reads includes from disk, so the text
//! of every open file is written into a shadow tree, one shadow directory per include root,
//! searched just before the root it shadows. Diagnostics and locations name the shadow copies;
//! [`Overlay::real_path`] maps them back.
//!
//! `<...>` includes resolve exactly as on disk. For `"..."` includes the includer's directory
//! comes first; when an open file sits beside the main file, the main file is read from the
//! shadow of its directory and the real directory is searched after every root, so siblings
//! that are not open are still found (they then also satisfy `<...>` includes, which the real
//! preprocessor would not do; a deviation that only matters in contrived trees).
//!
//! A `PpOptions` overlay in the preprocessor would make this module unnecessary (see the
//! crate documentation).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use mig_frontend::preprocess::PpOptions;

/// The shadow tree of one server process.
#[derive(Debug)]
pub struct Overlay {
    dir: PathBuf,
    /// Shadow file -> (real file, text written).
    written: HashMap<PathBuf, (PathBuf, String)>,
    /// Shadow root -> real root.
    roots: HashMap<PathBuf, PathBuf>,
}

/// How to parse one main file with the open buffers in effect.
#[derive(Debug, Clone)]
pub struct Shadowed {
    /// The name to give the main file (its real path, or its shadow copy).
    pub main_name: PathBuf,
    pub pp: PpOptions,
}

impl Overlay {
    pub fn new() -> Overlay {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mig-lsp-{}-{n}", std::process::id()));
        Overlay {
            dir,
            written: HashMap::new(),
            roots: HashMap::new(),
        }
    }

    fn shadow_root(&self, root: &Path) -> PathBuf {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        root.hash(&mut h);
        self.dir.join(format!("{:016x}", h.finish()))
    }

    /// Options that read the open buffers (`open`: real path -> text) instead of the disk for
    /// every file but `main` (whose text the caller supplies).
    pub fn apply(
        &mut self,
        main: &Path,
        pp: &PpOptions,
        open: &HashMap<PathBuf, String>,
    ) -> Shadowed {
        let main_dir = main.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut want: HashMap<PathBuf, (PathBuf, String)> = HashMap::new();
        let mut shadow_of =
            |root: &Path, want: &mut HashMap<PathBuf, (PathBuf, String)>| -> Option<PathBuf> {
                let mut any = false;
                let shadow = self.shadow_root(root);
                for (path, text) in open {
                    if path == main {
                        continue;
                    }
                    if let Ok(rel) = path.strip_prefix(root) {
                        want.insert(shadow.join(rel), (path.clone(), text.clone()));
                        any = true;
                    }
                }
                if any {
                    self.roots.insert(shadow.clone(), root.to_path_buf());
                }
                any.then_some(shadow)
            };
        let mut out = pp.clone();
        out.include_dirs.clear();
        for d in &pp.include_dirs {
            if let Some(s) = shadow_of(d, &mut want) {
                out.include_dirs.push(s);
            }
            out.include_dirs.push(d.clone());
        }
        out.system_dirs.clear();
        for d in &pp.system_dirs {
            if let Some(s) = shadow_of(d, &mut want) {
                out.system_dirs.push(s);
            }
            out.system_dirs.push(d.clone());
        }
        let mut main_name = main.to_path_buf();
        if let Some(s) = shadow_of(&main_dir, &mut want) {
            if let Some(name) = main.file_name() {
                main_name = s.join(name);
                let text = open.get(main).cloned().unwrap_or_default();
                want.insert(main_name.clone(), (main.to_path_buf(), text));
                out.include_dirs.push(main_dir.clone());
            }
        }
        for (shadow, (real, text)) in want {
            let same = self.written.get(&shadow).is_some_and(|(_, t)| *t == text);
            if !same {
                let ok = shadow
                    .parent()
                    .is_some_and(|p| std::fs::create_dir_all(p).is_ok())
                    && std::fs::write(&shadow, &text).is_ok();
                if ok {
                    self.written.insert(shadow, (real, text));
                }
            }
        }
        Shadowed { main_name, pp: out }
    }

    /// Forgets (and deletes) the shadow copy of files no longer open.
    pub fn retain_open(&mut self, open: &HashMap<PathBuf, String>) {
        self.written.retain(|shadow, (real, _)| {
            let keep = open.contains_key(real);
            if !keep {
                let _ = std::fs::remove_file(shadow);
            }
            keep
        });
    }

    /// The real path of a file name the preprocessor reported (a shadow copy or a real file).
    pub fn real_path(&self, name: &Path) -> PathBuf {
        if let Some((real, _)) = self.written.get(name) {
            return real.clone();
        }
        if name.starts_with(&self.dir) {
            for (shadow, real) in &self.roots {
                if let Ok(rel) = name.strip_prefix(shadow) {
                    return real.join(rel);
                }
            }
        }
        name.to_path_buf()
    }
}

impl Default for Overlay {
    fn default() -> Self {
        Overlay::new()
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
