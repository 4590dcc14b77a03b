//! Project settings of a `.defs` file: found in a `migc.toml` or `.mig-lsp.toml` by walking up
//! from the file, or defaults that make a file of an installed Mach tree compile.
//!
//! ```toml
//! dialect = "gnu"            # gnu (default), apple, osf, cmu
//! target = "x86_64-gnu"      # x86_64-gnu (default) or i686-gnu
//! include = ["include"]      # -I roots, relative to this file
//! system-include = []        # -isystem roots
//! define = ["KERNEL_SERVER", "N=4"]
//! undef = false              # GNU MIG's legacy -undef: no target macros
//! ```
//! The keys may also sit in a `[migc]` table.

use std::path::{Path, PathBuf};

use mig_frontend::dialect::Dialect;
use mig_frontend::preprocess::{predefined_macros, standard_macros, MacroAction, PpOptions};
use mig_frontend::FrontendOptions;
use mig_ir::target::Target;

/// File names searched for, nearest directory first.
pub const CONFIG_NAMES: [&str; 2] = ["migc.toml", ".mig-lsp.toml"];

/// Settings for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file the settings came from; `None` for defaults.
    pub source: Option<PathBuf>,
    pub dialect: Dialect,
    pub target: &'static Target,
    pub include_dirs: Vec<PathBuf>,
    pub system_dirs: Vec<PathBuf>,
    pub defines: Vec<(String, Option<String>)>,
    pub undef: bool,
    /// Problems with the settings file (unknown keys, bad values), reported as diagnostics.
    pub problems: Vec<String>,
}

impl Config {
    /// The settings for `file`: from the nearest settings file, else defaults.
    pub fn for_file(file: &Path) -> Config {
        let dir = file.parent().unwrap_or(Path::new("."));
        for d in dir.ancestors() {
            for name in CONFIG_NAMES {
                let p = d.join(name);
                if p.is_file() {
                    return Config::load(&p);
                }
            }
        }
        Config::defaults(file)
    }

    /// Defaults: the GNU dialect on x86_64; include roots are the file's directory, its
    /// parent (so `<mach/std_types.defs>` resolves from a file in `mach/`), and the system's
    /// `/usr/include/<multiarch>` and `/usr/include` where they exist.
    pub fn defaults(file: &Path) -> Config {
        let target = default_target();
        let mut include_dirs = Vec::new();
        if let Some(dir) = file.parent() {
            include_dirs.push(dir.to_path_buf());
            if let Some(up) = dir.parent() {
                include_dirs.push(up.to_path_buf());
            }
        }
        let multiarch = if target.name.starts_with("i686") {
            "/usr/include/i386-gnu"
        } else {
            "/usr/include/x86_64-linux-gnu"
        };
        for sys in [multiarch, "/usr/include"] {
            let p = PathBuf::from(sys);
            if p.join("mach").is_dir() {
                include_dirs.push(p);
            }
        }
        Config {
            source: None,
            dialect: Dialect::Gnu,
            target,
            include_dirs,
            system_dirs: Vec::new(),
            defines: Vec::new(),
            undef: false,
            problems: Vec::new(),
        }
    }

    /// Reads a settings file; problems are recorded, never fatal.
    pub fn load(path: &Path) -> Config {
        let base = path.parent().unwrap_or(Path::new("."));
        let mut c = Config {
            source: Some(path.to_path_buf()),
            include_dirs: Vec::new(),
            ..Config::defaults(path)
        };
        c.include_dirs.clear();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                c.problems
                    .push(format!("cannot read {}: {}", path.display(), e));
                return c;
            }
        };
        let table = match text.parse::<toml::Table>() {
            Ok(t) => t,
            Err(e) => {
                c.problems
                    .push(format!("{}: {}", path.display(), e.message().trim_end()));
                return c;
            }
        };
        let table = match table.get("migc") {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => table,
        };
        for (key, value) in &table {
            c.apply(base, key, value);
        }
        c
    }

    fn apply(&mut self, base: &Path, key: &str, value: &toml::Value) {
        let strings = |v: &toml::Value| -> Option<Vec<String>> {
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        let problem = match (key, value) {
            ("dialect", toml::Value::String(s)) => match Dialect::from_name(s) {
                Some(d) => {
                    self.dialect = d;
                    None
                }
                None => Some(format!(
                    "unknown dialect `{s}` (expected gnu, apple, osf or cmu)"
                )),
            },
            ("target", toml::Value::String(s)) => match Target::by_name(s) {
                Some(t) => {
                    self.target = t;
                    None
                }
                None => Some(format!(
                    "unknown target `{s}` (expected {})",
                    Target::names().join(" or ")
                )),
            },
            ("include" | "system-include", v) => match strings(v) {
                Some(dirs) => {
                    let dirs = dirs.into_iter().map(|d| base.join(d));
                    if key == "include" {
                        self.include_dirs.extend(dirs);
                    } else {
                        self.system_dirs.extend(dirs);
                    }
                    None
                }
                None => Some(format!("`{key}` must be a list of directories")),
            },
            ("define", v) => match strings(v) {
                Some(defs) => {
                    self.defines
                        .extend(defs.into_iter().map(|d| match d.split_once('=') {
                            Some((n, v)) => (n.to_string(), Some(v.to_string())),
                            None => (d, None),
                        }));
                    None
                }
                None => Some("`define` must be a list of `NAME` or `NAME=VALUE`".into()),
            },
            ("undef", toml::Value::Boolean(b)) => {
                self.undef = *b;
                None
            }
            ("dialect" | "target", _) => Some(format!("`{key}` must be a string")),
            ("undef", _) => Some("`undef` must be true or false".into()),
            _ => Some(format!("unknown setting `{key}`")),
        };
        if let Some(p) = problem {
            let at = self
                .source
                .as_ref()
                .map_or(String::new(), |s| format!("{}: ", s.display()));
            self.problems.push(format!("{at}{p}"));
        }
    }

    /// Front-end options, as `migc --check` with the same flags would use them.
    pub fn frontend_options(&self) -> FrontendOptions {
        let predefined = if self.undef {
            standard_macros()
        } else {
            predefined_macros(self.target.name).unwrap_or_else(standard_macros)
        };
        FrontendOptions {
            dialect: self.dialect,
            pp: PpOptions {
                include_dirs: self.include_dirs.clone(),
                system_dirs: self.system_dirs.clone(),
                macro_actions: self
                    .defines
                    .iter()
                    .map(|(n, v)| MacroAction::Define(n.clone(), v.clone()))
                    .collect(),
                predefined,
                std_dirs: host_std_dirs(),
                ..PpOptions::default()
            },
        }
    }
}

/// The compiler's standard system include directories, as migc searches them (after `-I` and
/// `-isystem`; found once per server, and only when a lookup gets that far).
fn host_std_dirs() -> mig_frontend::preprocess::StdDirs {
    static DIRS: std::sync::OnceLock<mig_frontend::preprocess::StdDirs> =
        std::sync::OnceLock::new();
    DIRS.get_or_init(|| {
        let cc = std::env::var("CC")
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        mig_frontend::preprocess::StdDirs::host(cc, None)
    })
    .clone()
}

fn default_target() -> &'static Target {
    &mig_ir::target::X86_64_GNU
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_file_is_found_upwards_and_read() {
        let dir = std::env::temp_dir().join(format!("mig-lsp-config-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        std::fs::write(
            dir.join("migc.toml"),
            "dialect = \"apple\"\ntarget = \"i686-gnu\"\ninclude = [\"inc\"]\ndefine = [\"A\", \"B=2\"]\nbogus = 1\n",
        )
        .unwrap();
        let c = Config::for_file(&dir.join("sub/deeper/x.defs"));
        assert_eq!(c.dialect, Dialect::Apple);
        assert_eq!(c.target.name, "i686-gnu");
        assert_eq!(c.include_dirs, vec![dir.join("inc")]);
        assert_eq!(
            c.defines,
            vec![("A".into(), None), ("B".into(), Some("2".into()))]
        );
        assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
        assert!(c.problems[0].ends_with("unknown setting `bogus`"));
        std::fs::write(dir.join("migc.toml"), "dialect = [").unwrap();
        let c = Config::for_file(&dir.join("sub/x.defs"));
        assert_eq!(c.problems.len(), 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
