//! Running QEMU with a timeout, capturing the serial console, and judging a test transcript.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Time limit of a whole test boot.
pub const TEST_TIMEOUT_SECS: u64 = 100;
/// `isa-debug-exit` status when the kernel wrote 0x10 (pass).
pub const EXIT_PASS: i32 = (0x10 << 1) | 1;
/// `isa-debug-exit` status when the kernel wrote 0x11 (fail).
pub const EXIT_FAIL: i32 = (0x11 << 1) | 1;

/// A QEMU invocation.
#[derive(Debug)]
pub struct Qemu {
    args: Vec<String>,
    /// Echo serial lines as they arrive.
    pub echo: bool,
    /// The line prefix (after escapes) whose arrival time is `first_line_secs`.
    pub marker: String,
    /// Stop QEMU as soon as the marker line arrived.
    pub stop_at_marker: bool,
    /// Working directory of QEMU (module paths of `-initrd` are relative to it).
    pub cwd: Option<PathBuf>,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// The serial output, `\r` removed.
    pub transcript: String,
    /// QEMU's exit status (None when killed at the timeout).
    pub status: Option<i32>,
    /// Seconds from spawn to the first line starting with the marker (`Mach_R `).
    pub first_line_secs: Option<f64>,
    /// Seconds from spawn to exit (or timeout).
    pub total_secs: f64,
    /// Whether the timeout killed QEMU.
    pub timed_out: bool,
}

impl RunResult {
    /// The status for humans.
    pub fn status_text(&self) -> String {
        match (self.timed_out, self.status) {
            (true, _) => "killed at the timeout".into(),
            (false, Some(EXIT_PASS)) => "debug-exit PASS (33)".into(),
            (false, Some(EXIT_FAIL)) => "debug-exit FAIL (35)".into(),
            (false, Some(s)) => format!("exit status {s}"),
            (false, None) => "killed by a signal".into(),
        }
    }
}

fn base_args() -> Vec<String> {
    [
        "-m",
        "128M",
        "-serial",
        "stdio",
        "-display",
        "none",
        "-monitor",
        "none",
        "-no-reboot",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl Qemu {
    /// PVH boot of `kernel` with `module` as the initrd.
    pub fn pvh(kernel: &Path, module: &Path, cmdline: &str) -> Qemu {
        let mut args = base_args();
        args.extend([
            "-kernel".into(),
            kernel.display().to_string(),
            "-initrd".into(),
            module.display().to_string(),
            "-append".into(),
            cmdline.into(),
        ]);
        Qemu {
            args,
            echo: false,
            marker: "Mach_R ".into(),
            stop_at_marker: false,
            cwd: None,
        }
    }

    /// GNU Mach's QEMU command line (reference-systems.md), kernel file aside:
    /// `-m 128 -kernel K -append console=com0 -initrd MODULES -nographic -no-reboot -serial
    /// stdio -display none -monitor none`, plus the `isa-debug-exit` device. QEMU boots the
    /// image through its Multiboot (v1) loader; `modules` are split at commas.
    pub fn gnu_mach_shape(kernel: &Path, modules: &str) -> Qemu {
        let args = [
            "-m",
            "128",
            "-kernel",
            &kernel.display().to_string(),
            "-append",
            "console=com0",
            "-initrd",
            modules,
            "-nographic",
            "-no-reboot",
            "-serial",
            "stdio",
            "-display",
            "none",
            "-monitor",
            "none",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Qemu {
            args,
            echo: false,
            marker: "Mach_R ".into(),
            stop_at_marker: false,
            cwd: None,
        }
    }

    /// `-kernel` boot without a module.
    pub fn kernel_only(kernel: &Path, cmdline: &str) -> Qemu {
        let mut args = base_args();
        args.extend([
            "-kernel".into(),
            kernel.display().to_string(),
            "-append".into(),
            cmdline.into(),
        ]);
        Qemu {
            args,
            echo: false,
            marker: "Mach_R ".into(),
            stop_at_marker: false,
            cwd: None,
        }
    }

    /// Boot from an ISO image.
    pub fn cdrom(iso: &Path) -> Qemu {
        let mut args = base_args();
        args.extend([
            "-cdrom".into(),
            iso.display().to_string(),
            "-boot".into(),
            "d".into(),
        ]);
        Qemu {
            args,
            echo: false,
            marker: "Mach_R ".into(),
            stop_at_marker: false,
            cwd: None,
        }
    }

    /// Adds arguments.
    pub fn arg<S: Into<String>>(mut self, a: S) -> Qemu {
        self.args.push(a.into());
        self
    }

    /// Runs QEMU until it exits or `timeout` passes.
    pub fn run(&self, timeout: Duration) -> Result<RunResult, String> {
        let start = Instant::now();
        let mut cmd = Command::new("qemu-system-x86_64");
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!("cannot start qemu-system-x86_64 (install it with scripts/setup.sh): {e}")
            })?;
        let stdout = child.stdout.take().ok_or("no qemu stdout")?;
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
                let line = String::from_utf8_lossy(&buf).replace('\r', "");
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
                buf.clear();
            }
        });
        let mut transcript = String::new();
        let mut first_line_secs = None;
        let mut timed_out = false;
        let deadline = start + timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                timed_out = true;
                let _ = child.kill();
                break;
            }
            match rx.recv_timeout(deadline - now) {
                Ok((at, line)) => {
                    // `contains`: before a Multiboot kernel's first line SeaBIOS leaves
                    // `Booting from ROM..` without a newline.
                    if first_line_secs.is_none() && strip_escapes(&line).contains(&self.marker) {
                        first_line_secs = Some((at - start).as_secs_f64());
                        if self.stop_at_marker {
                            transcript.push_str(&line);
                            let _ = child.kill();
                            break;
                        }
                    }
                    if self.echo {
                        print!("{line}");
                    }
                    transcript.push_str(&line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = child.wait().map_err(|e| format!("waiting for qemu: {e}"))?;
        let total_secs = start.elapsed().as_secs_f64();
        let _ = reader.join();
        Ok(RunResult {
            transcript,
            status: status.code(),
            first_line_secs,
            total_secs,
            timed_out,
        })
    }
}

/// Removes ANSI escape sequences (firmware output) from a line.
pub fn strip_escapes(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        if !c.is_control() || c == '\n' || c == '\t' {
            out.push(c);
        }
    }
    out.trim_start().to_string()
}

/// One test's verdict.
#[derive(Debug)]
pub struct TestVerdict {
    /// Test name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed.
    pub detail: String,
}

/// The verdict of a run.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Per-test results, in transcript order.
    pub tests: Vec<TestVerdict>,
    /// Whole-run problems (wrong first line, crash, timeout, exit status, results that
    /// differ from the plan).
    pub problems: Vec<String>,
    /// The tests the kernel declared in its `[test] plan` line.
    pub plan: Vec<String>,
}

/// Judges a test transcript booted via `protocol` with the user programs `modules` (archive
/// names) as boot modules.
///
/// Beyond each test's own line, the run must match the kernel's `[test] plan`: every
/// declared test has exactly one result, nothing outside the plan ran, and every module has
/// its `user_NAME` test in the plan. A test that vanishes is a failure, not one fewer line.
pub fn judge(r: &RunResult, protocol: &str, modules: &[String]) -> Verdict {
    let mut v = Verdict::default();
    let lines: Vec<String> = r
        .transcript
        .lines()
        .map(strip_escapes)
        .filter(|l| !l.is_empty())
        .collect();
    let expected_first = format!("Mach_R {} booted via {protocol}", env!("CARGO_PKG_VERSION"));
    match lines.iter().find(|l| l.starts_with("Mach_R ")) {
        Some(l) if *l == expected_first => {}
        Some(l) => v
            .problems
            .push(format!("first line is `{l}`, expected `{expected_first}`")),
        None => v.problems.push(format!("no `{expected_first}` line")),
    }
    let mut open: Option<String> = None;
    let mut done = None;
    let mut plans = 0;
    for l in &lines {
        if let Some(rest) = l.strip_prefix("[test] plan ") {
            plans += 1;
            let (count, names) = rest.split_once(": ").unwrap_or((rest, ""));
            v.plan = names.split_whitespace().map(str::to_string).collect();
            if count.trim().parse::<usize>() != Ok(v.plan.len()) {
                v.problems.push(format!(
                    "plan announces {count} tests and names {}",
                    v.plan.len()
                ));
            }
        } else if let Some(name) = l.strip_prefix("[test] begin ") {
            if let Some(prev) = open.take() {
                v.tests.push(TestVerdict {
                    name: prev,
                    passed: false,
                    detail: "no result line".into(),
                });
            }
            open = Some(name.trim().to_string());
        } else if let Some(name) = l.strip_prefix("[test] ok ") {
            let name = name.trim().to_string();
            let matched = open.take().is_some_and(|o| o == name);
            v.tests.push(TestVerdict {
                passed: matched,
                detail: if matched {
                    String::new()
                } else {
                    "result without begin".into()
                },
                name,
            });
        } else if let Some(rest) = l.strip_prefix("[test] FAIL ") {
            let (name, why) = rest.split_once(": ").unwrap_or((rest, ""));
            open = None;
            v.tests.push(TestVerdict {
                name: name.trim().to_string(),
                passed: false,
                detail: why.to_string(),
            });
        } else if let Some(rest) = l.strip_prefix("[test] done: ") {
            done = Some(rest.to_string());
        } else if l.starts_with("[panic]") {
            v.problems.push(format!("kernel panic: {l}"));
        }
    }
    if let Some(name) = open {
        v.tests.push(TestVerdict {
            name,
            passed: false,
            detail: "did not finish (crash or hang)".into(),
        });
    }
    check_plan(&mut v, plans, modules);
    let passed = v.tests.iter().filter(|t| t.passed).count();
    let failed = v.tests.len() - passed;
    match done {
        None => v.problems.push("no `[test] done` line".into()),
        Some(d) if d != format!("{passed} passed, {failed} failed") => v.problems.push(format!(
            "kernel summary `{d}` disagrees with the transcript ({passed} passed, {failed} failed)"
        )),
        Some(_) => {}
    }
    let expected_status = if failed == 0 { EXIT_PASS } else { EXIT_FAIL };
    if r.timed_out {
        v.problems.push("QEMU timed out".into());
    } else if r.status != Some(expected_status) {
        v.problems.push(format!(
            "QEMU {}, expected debug-exit status {expected_status}",
            r.status_text()
        ));
    }
    v
}

/// Compares the results with the plan (`plans`: how many plan lines were seen).
fn check_plan(v: &mut Verdict, plans: usize, modules: &[String]) {
    if plans != 1 {
        v.problems
            .push(format!("{plans} `[test] plan` lines, expected exactly one"));
    }
    for name in &v.plan {
        match v.tests.iter().filter(|t| t.name == *name).count() {
            1 => {}
            0 => v
                .problems
                .push(format!("declared test {name} has no result")),
            n => v
                .problems
                .push(format!("declared test {name} has {n} results")),
        }
    }
    for t in &v.tests {
        if !v.plan.contains(&t.name) {
            v.problems
                .push(format!("test {} ran but is not in the plan", t.name));
        }
    }
    for m in modules {
        let name = format!("user_{m}");
        if !v.plan.contains(&name) {
            v.problems
                .push(format!("boot module {m} has no test {name} in the plan"));
        }
    }
}

/// Judges the boot with GNU Mach's command line ([`super::GNU_MODULES`]): Mach_R booted by
/// Multiboot v1, ran `hello` with the arguments of its module string, left `traps`
/// suspended, and ended the run with the pass status. Returns the problems found.
pub fn judge_gnu_boot(r: &RunResult) -> Vec<String> {
    // SeaBIOS leaves `Booting from ROM..` without a newline before a Multiboot kernel's line.
    let lines: Vec<String> = r
        .transcript
        .lines()
        .map(strip_escapes)
        .map(|l| match l.find("Mach_R ") {
            Some(at) => l[at..].to_string(),
            None => l,
        })
        .filter(|l| !l.is_empty())
        .collect();
    let mut problems = Vec::new();
    let expected_first = format!("Mach_R {} booted via multiboot", env!("CARGO_PKG_VERSION"));
    match lines.iter().find(|l| l.starts_with("Mach_R ")) {
        Some(l) if *l == expected_first => {}
        Some(l) => problems.push(format!("first line is `{l}`, expected `{expected_first}`")),
        None => problems.push(format!("no `{expected_first}` line")),
    }
    for want in [
        "hello from hello in ring 3",
        "mach_task_self round trip: name ",
        "[boot] module 1 (traps): task left suspended (no resume)",
    ] {
        if !lines.iter().any(|l| l.contains(want)) {
            problems.push(format!("no line with `{want}`"));
        }
    }
    for bad in ["[panic]", "FAIL", "[run] traps"] {
        if let Some(l) = lines.iter().find(|l| l.contains(bad)) {
            problems.push(format!("unexpected line `{l}`"));
        }
    }
    if r.timed_out {
        problems.push("QEMU timed out".into());
    } else if r.status != Some(EXIT_PASS) {
        problems.push(format!(
            "QEMU {}, expected debug-exit status {EXIT_PASS}",
            r.status_text()
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(t: &str, status: i32) -> RunResult {
        RunResult {
            transcript: t.into(),
            status: Some(status),
            first_line_secs: Some(0.1),
            total_secs: 1.0,
            timed_out: false,
        }
    }

    const FIRST: &str = concat!(
        "\x1b[2J\x1b[01;01HMach_R ",
        env!("CARGO_PKG_VERSION"),
        " booted via pvh\r\n"
    );

    fn judge(r: &RunResult, protocol: &str) -> Verdict {
        super::judge(r, protocol, &[])
    }

    #[test]
    fn a_clean_run_passes() {
        let t = format!("{FIRST}[test] plan 2: a b\n[test] begin a\n[test] ok a\n[test] begin b\n[test] ok b\n[test] done: 2 passed, 0 failed\n");
        let v = judge(&result(&t, EXIT_PASS), "pvh");
        assert!(v.problems.is_empty(), "{:?}", v.problems);
        assert_eq!(v.tests.len(), 2);
        assert!(v.tests.iter().all(|t| t.passed));
    }

    #[test]
    fn the_gnu_boot_is_judged_on_its_lines_and_status() {
        let first = concat!(
            "Mach_R ",
            env!("CARGO_PKG_VERSION"),
            " booted via multiboot\r\n"
        );
        let good = format!("{first}[boot] module 1 (traps): task left suspended (no resume)\nhello from hello in ring 3\nmach_task_self round trip: name 3\n");
        assert!(judge_gnu_boot(&result(&good, EXIT_PASS)).is_empty());
        assert_eq!(judge_gnu_boot(&result(&good, 0)).len(), 1);
        let pvh = good.replace("multiboot\r", "pvh\r");
        assert_eq!(judge_gnu_boot(&result(&pvh, EXIT_PASS)).len(), 1);
        let ran = format!("{good}[run] traps\n");
        assert_eq!(judge_gnu_boot(&result(&ran, EXIT_PASS)).len(), 1);
        let short = format!("{first}hello from hello in ring 3\n");
        assert_eq!(judge_gnu_boot(&result(&short, EXIT_PASS)).len(), 2);
    }

    #[test]
    fn crashes_failures_and_lies_are_caught() {
        let t =
            format!("{FIRST}[test] plan 2: a b\n[test] begin a\n[test] FAIL a: broken\n[test] begin b\n[panic] oops\n");
        let v = judge(&result(&t, EXIT_FAIL), "pvh");
        assert_eq!(v.tests.len(), 2);
        assert!(!v.tests[0].passed && v.tests[0].detail == "broken");
        assert!(!v.tests[1].passed);
        assert!(v.problems.iter().any(|p| p.contains("panic")));
        assert!(v.problems.iter().any(|p| p.contains("no `[test] done`")));
        let lie = format!(
            "{FIRST}[test] plan 1: a\n[test] begin a\n[test] ok a\n[test] done: 5 passed, 0 failed\n"
        );
        assert!(!judge(&result(&lie, EXIT_PASS), "pvh").problems.is_empty());
        let wrong_exit =
            format!("{FIRST}[test] plan 1: a\n[test] begin a\n[test] ok a\n[test] done: 1 passed, 0 failed\n");
        assert!(!judge(&result(&wrong_exit, 0), "pvh").problems.is_empty());
        assert!(!judge(&result(&wrong_exit, EXIT_PASS), "multiboot2")
            .problems
            .is_empty());
    }

    #[test]
    fn results_must_match_the_plan() {
        let ok = |plan: &str, body: &str| {
            let t = format!("{FIRST}{plan}{body}[test] done: 2 passed, 0 failed\n");
            super::judge(&result(&t, EXIT_PASS), "pvh", &["x".to_string()]).problems
        };
        let run = "[test] begin a\n[test] ok a\n[test] begin user_x\n[test] ok user_x\n";
        assert!(ok("[test] plan 2: a user_x\n", run).is_empty());
        // A declared test that never ran.
        let p = ok("[test] plan 3: a b user_x\n", run);
        assert!(
            p.iter()
                .any(|p| p.contains("declared test b has no result")),
            "{p:?}"
        );
        // A test outside the plan, and a module without its test.
        let p = ok("[test] plan 1: a\n", run);
        assert!(
            p.iter()
                .any(|p| p.contains("user_x ran but is not in the plan")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|p| p.contains("boot module x has no test")),
            "{p:?}"
        );
        // No plan at all, or a count that disagrees with the names.
        assert!(ok("", run)
            .iter()
            .any(|p| p.contains("0 `[test] plan` lines")));
        assert!(ok("[test] plan 3: a user_x\n", run)
            .iter()
            .any(|p| p.contains("announces 3 tests")));
    }
}
