//! The include search path, in `gcc -E`'s order: `-I` directories, `-isystem` directories, the
//! compiler's standard system directories (unless `-nostdinc`), then `-idirafter` directories.
//!
//! GNU `mig` preprocesses with `gcc -E` (`$CC -E -x c`), so a `.defs` file may include a C
//! library header such as `<bits/utsname.h>`. The standard directories are the ones that
//! compiler reports itself (`$CC -E -x c -v /dev/null`, with `--sysroot` when given): the same
//! list GNU mig searches, on any host, including a cross compiler's sysroot. They are asked
//! for once, and only when a lookup gets past every `-I` and `-isystem` directory, so a run that
//! never needs them never starts a process. Without a compiler, a fixed list stands in:
//! `/usr/local/include`, the multiarch folder, `/usr/include` (under the sysroot), those that
//! exist. Either way the result depends only on the machine, never on timing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

/// Where the standard system directories come from.
#[derive(Debug, Clone, Default)]
pub enum StdDirs {
    /// None (`-nostdinc`, and the default for library users that give every directory).
    #[default]
    None,
    /// A given list (tests, editors with a configured path).
    Given(Vec<PathBuf>),
    /// The host compiler's, discovered on first use and shared by every clone.
    Host(Arc<HostDirs>),
}

impl StdDirs {
    /// The directories the compiler `cc` (GNU mig's `$CC`, `gcc` when empty) searches, with
    /// `sysroot` (`--sysroot`) if given.
    pub fn host(cc: Vec<String>, sysroot: Option<PathBuf>) -> StdDirs {
        StdDirs::Host(Arc::new(HostDirs {
            cc,
            sysroot,
            found: OnceLock::new(),
        }))
    }

    /// The directories, discovering them if needed.
    pub fn dirs(&self) -> &[PathBuf] {
        match self {
            StdDirs::None => &[],
            StdDirs::Given(d) => d,
            StdDirs::Host(h) => &h.get().dirs,
        }
    }

    /// Where [`StdDirs::dirs`] came from, for `-v` output.
    pub fn source(&self) -> String {
        match self {
            StdDirs::None => "none (-nostdinc)".to_string(),
            StdDirs::Given(_) => "given".to_string(),
            StdDirs::Host(h) => h.get().source.clone(),
        }
    }
}

/// The host compiler's standard directories, discovered once.
#[derive(Debug)]
pub struct HostDirs {
    cc: Vec<String>,
    sysroot: Option<PathBuf>,
    found: OnceLock<Found>,
}

#[derive(Debug)]
struct Found {
    dirs: Vec<PathBuf>,
    source: String,
}

impl HostDirs {
    fn get(&self) -> &Found {
        self.found.get_or_init(|| self.discover())
    }

    fn discover(&self) -> Found {
        let cc: Vec<String> = if self.cc.is_empty() {
            vec!["gcc".to_string()]
        } else {
            self.cc.clone()
        };
        let mut cmd = Command::new(&cc[0]);
        cmd.args(&cc[1..]).args(["-E", "-x", "c", "-v"]);
        if let Some(s) = &self.sysroot {
            cmd.arg(format!("--sysroot={}", s.display()));
        }
        cmd.arg("/dev/null")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let shown = cc.join(" ");
        match cmd.output() {
            Ok(out) if out.status.success() => {
                if let Some(dirs) = parse_search_list(&String::from_utf8_lossy(&out.stderr)) {
                    return Found {
                        dirs,
                        source: format!("from `{shown} -E -x c -v`"),
                    };
                }
                self.fallback(&format!("`{shown} -E -v` printed no search list"))
            }
            Ok(out) => self.fallback(&format!("`{shown} -E -v` failed ({})", out.status)),
            Err(e) => self.fallback(&format!("cannot run `{shown}`: {}", crate::io_reason(&e))),
        }
    }

    fn fallback(&self, why: &str) -> Found {
        let root = self.sysroot.clone().unwrap_or_else(|| PathBuf::from("/"));
        let dirs = fallback_dirs(&root, host_multiarch())
            .into_iter()
            .filter(|d| d.is_dir())
            .collect();
        Found {
            dirs,
            source: format!("built-in list ({why})"),
        }
    }
}

/// The `#include <...>` list of `gcc -v` output (the lines between `#include <...> search
/// starts here:` and `End of search list.`), without the framework-directory suffix clang adds.
pub fn parse_search_list(stderr: &str) -> Option<Vec<PathBuf>> {
    let mut lines = stderr.lines();
    lines.find(|l| l.starts_with("#include <...> search starts here:"))?;
    let mut dirs = Vec::new();
    for l in lines {
        if l.starts_with("End of search list.") {
            return Some(dirs);
        }
        let d = l.trim();
        let d = d.strip_suffix(" (framework directory)").unwrap_or(d);
        if !d.is_empty() {
            dirs.push(PathBuf::from(d));
        }
    }
    None
}

/// gcc's order on a Debian-style system without its private directory: `/usr/local/include`,
/// `/usr/include/<multiarch>`, `/usr/include`, under `root`.
pub fn fallback_dirs(root: &Path, multiarch: Option<&str>) -> Vec<PathBuf> {
    let mut v = vec![root.join("usr/local/include")];
    if let Some(m) = multiarch {
        v.push(root.join("usr/include").join(m));
    }
    v.push(root.join("usr/include"));
    v
}

/// The multiarch triplet of the host migc was built for (Debian's naming).
fn host_multiarch() -> Option<&'static str> {
    match (std::env::consts::ARCH, std::env::consts::OS) {
        ("x86_64", "linux") => Some("x86_64-linux-gnu"),
        ("x86", "linux") => Some("i386-linux-gnu"),
        ("aarch64", "linux") => Some("aarch64-linux-gnu"),
        ("x86_64", "hurd") => Some("x86_64-gnu"),
        ("x86", "hurd") => Some("i386-gnu"),
        _ => None,
    }
}

/// The whole search list for `#include <...>`, in order, with each directory's kind (`-v`).
pub fn search_list(opts: &super::PpOptions) -> Vec<(PathBuf, &'static str)> {
    let mut v: Vec<(PathBuf, &'static str)> = Vec::new();
    v.extend(opts.include_dirs.iter().map(|d| (d.clone(), "-I")));
    v.extend(opts.system_dirs.iter().map(|d| (d.clone(), "-isystem")));
    v.extend(opts.std_dirs.dirs().iter().map(|d| (d.clone(), "system")));
    v.extend(opts.after_dirs.iter().map(|d| (d.clone(), "-idirafter")));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcc_v_list_is_parsed() {
        let text = "ignoring nonexistent directory \"/x\"\n#include \"...\" search starts here:\n\
                    #include <...> search starts here:\n /usr/lib/gcc/x86_64-linux-gnu/12/include\n \
                    /usr/local/include\n /usr/include\nEnd of search list.\n";
        assert_eq!(
            parse_search_list(text).unwrap(),
            [
                "/usr/lib/gcc/x86_64-linux-gnu/12/include",
                "/usr/local/include",
                "/usr/include"
            ]
            .map(PathBuf::from)
        );
        assert!(parse_search_list("no list").is_none());
        assert!(parse_search_list("#include <...> search starts here:\n /a\n").is_none());
    }

    #[test]
    fn fallback_is_under_the_sysroot() {
        assert_eq!(
            fallback_dirs(Path::new("/sr"), Some("x86_64-gnu")),
            [
                "/sr/usr/local/include",
                "/sr/usr/include/x86_64-gnu",
                "/sr/usr/include"
            ]
            .map(PathBuf::from)
        );
    }
}
