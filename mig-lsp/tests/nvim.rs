//! A real editor drives the server: Neovim's built-in LSP client (`nvim --headless`, from
//! Debian's `neovim`, installed by `scripts/setup.sh`) opens a `.defs` file with an error,
//! receives the diagnostic on the right line, edits the file and receives the update, hovers a
//! routine and gets its msgh_id, adds a routine naming an undefined type (diagnostic on its
//! line, and the first routine's hover keeps its layout and msgh_id), then stops the server,
//! which exits with status 0.
//! The script is `tests/nvim/client.lua`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILE: &str = "\
subsystem demo 500;
type int32 = MACH_MSG_TYPE_INTEGER_32;
type port_t = MACH_MSG_TYPE_COPY_SEND;
type broken = ;
routine ping(
\t\tserver : port_t;
\t\tvalue : int32);
";

#[test]
fn neovim_drives_the_server() {
    let nvim_found = Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        nvim_found,
        "`nvim` is not installed: this test needs Neovim >= 0.7 (Debian package `neovim`, \
         installed by scripts/setup.sh)"
    );
    let dir = std::env::temp_dir().join(format!("mig-lsp-nvim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let defs = dir.join("demo.defs");
    std::fs::write(&defs, FILE).unwrap();
    let result = dir.join("result.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/client.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "--noplugin", "-n"])
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .env("MIG_LSP_BIN", env!("CARGO_BIN_EXE_mig-lsp"))
        .env("DEFS_FILE", &defs)
        .env("RESULT_FILE", &result)
        .env("XDG_STATE_HOME", &dir)
        .env("XDG_CACHE_HOME", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nvim");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait for nvim").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nvim did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = std::fs::read_to_string(&result).unwrap_or_else(|e| {
        let err = child
            .wait_with_output()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        panic!("nvim wrote no result ({e}); stderr: {err}")
    });
    std::fs::remove_dir_all(&dir).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.last(), Some(&"DONE"), "{out}");
    assert!(lines.contains(&"diagnostics 1"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("diagnostic line 3 expected")),
        "the error should be on line 4 (index 3): {out}"
    );
    assert!(lines.contains(&"after edit diagnostics 0"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("hover **msgh_id** request `500`, reply `600`")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("partial diagnostic line 7 undefined type `nope_t`")),
        "the broken routine's error should be on line 8 (index 7): {out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("partial hover **msgh_id** request `500`, reply `600`")),
        "{out}"
    );
    assert!(lines.contains(&"exit 0 signal 0"), "{out}");
}
