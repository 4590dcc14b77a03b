//! `bootstrap` against GNU Mach: each file of `tests/gnumach/observed/` is what GNU Mach 1.8
//! printed when `probe.sh` booted `stack_probe` under one QEMU command line. The module
//! strings and kernel command line of that run go through `Script::plan` and `build_stack`;
//! the arguments, the names of the ports and every byte of the initial stack must come out
//! as GNU Mach laid them out, and the lines GNU Mach refused or did not run must be refused
//! or not run here.

use mach_r_boot::bootstrap::{ModulePlan, Resume, Script, ScriptError};
use std::path::PathBuf;

/// One observed run.
struct Observed {
    name: String,
    cmdline: String,
    initrd: String,
    rsp: Option<u64>,
    page_end: u64,
    argv: Vec<(u64, String)>,
    dump: Vec<u8>,
    other: Vec<String>,
}

fn observed() -> Vec<Observed> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gnumach/observed");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut o = Observed {
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            cmdline: String::new(),
            initrd: String::new(),
            rsp: None,
            page_end: 0,
            argv: Vec::new(),
            dump: Vec::new(),
            other: Vec::new(),
        };
        for line in text.lines() {
            if let Some(c) = line.strip_prefix("# kernel command line: ") {
                o.cmdline = c.to_string();
            } else if let Some(i) = line.strip_prefix("# -initrd: ") {
                o.initrd = i.to_string();
            } else if let Some(r) = line.strip_prefix("PROBE rsp 0x") {
                o.rsp = Some(u64::from_str_radix(r, 16).unwrap());
            } else if let Some(p) = line.strip_prefix("PROBE page_end +") {
                o.page_end = p.parse().unwrap();
            } else if let Some(a) = line.strip_prefix("PROBE argv ") {
                let (_, rest) = a.split_once(" +").unwrap();
                let (off, s) = rest.split_once(" [").unwrap();
                o.argv
                    .push((off.parse().unwrap(), s.strip_suffix(']').unwrap().into()));
            } else if let Some(d) = line.strip_prefix("PROBE dump +") {
                let (off, hex) = d.split_once(' ').unwrap();
                assert_eq!(off.parse::<usize>().unwrap(), o.dump.len());
                for i in (0..hex.len()).step_by(2) {
                    o.dump.push(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
                }
            } else if !line.starts_with('#') {
                o.other.push(line.to_string());
            }
        }
        out.push(o);
    }
    assert!(out.len() >= 10, "observations missing in {}", dir.display());
    out
}

/// QEMU's multiboot loader passes `FILE CMDLINE` as the kernel command line (observed:
/// `${kernel-command-line}` expanded to `gnumach.elf32 console=com0 ...`) and splits
/// `-initrd` at commas into module strings.
fn plans(o: &Observed) -> Vec<Result<ModulePlan, ScriptError>> {
    let cmdline = format!("gnumach.elf32 {}", o.cmdline);
    let lines: Vec<&[u8]> = o.initrd.split(',').map(str::as_bytes).collect();
    let script = Script::new(cmdline.as_bytes(), lines.iter().copied());
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| script.plan(i, l))
        .collect()
}

#[test]
fn arguments_ports_and_stack_bytes_match_gnu_mach() {
    let mut compared = 0;
    for o in observed() {
        let Some(rsp) = o.rsp else { continue };
        let plans = plans(&o);
        let running: Vec<&ModulePlan> = plans
            .iter()
            .map(|p| p.as_ref().unwrap_or_else(|e| panic!("{}: {e:?}", o.name)))
            .filter(|p| p.create && p.resume == Resume::Now)
            .collect();
        assert_eq!(running.len(), 1, "{}: one task runs on GNU Mach", o.name);
        let plan = running[0];
        let ours: Vec<String> = plan
            .argv()
            .map(|a| String::from_utf8(a.to_vec()).unwrap())
            .collect();
        let theirs: Vec<String> = o.argv.iter().map(|(_, s)| s.clone()).collect();
        assert_eq!(ours, theirs, "{}: argv", o.name);
        let top = rsp + o.page_end;
        let mut buf = vec![0u8; 4096];
        let img = plan.build_stack(top, &mut buf).unwrap();
        assert_eq!(img.sp, rsp, "{}: %rsp at entry", o.name);
        assert_eq!(&buf[..img.len], &o.dump[..], "{}: stack bytes", o.name);
        for (i, (off, _)) in o.argv.iter().enumerate() {
            let slot = u64::from_le_bytes(buf[8 + 8 * i..16 + 8 * i].try_into().unwrap());
            assert_eq!(slot, rsp + off, "{}: argv[{i}] pointer", o.name);
        }
        compared += 1;
    }
    assert!(compared >= 8, "only {compared} runs compared");
}

#[test]
fn port_names_follow_first_appearance() {
    let obs = observed();
    let o = obs.iter().find(|o| o.name == "port_order").unwrap();
    let first = plans(o);
    let p = first[0].as_ref().unwrap();
    use mach_r_boot::bootstrap::PortRef;
    assert_eq!(p.ports(), [PortRef::DeviceMaster, PortRef::HostPriv]);
    let o = obs.iter().find(|o| o.name == "two_modules").unwrap();
    let plans = plans(o);
    let p = plans[1].as_ref().unwrap();
    assert_eq!(
        p.ports(),
        [PortRef::Task(0), PortRef::HostPriv, PortRef::DeviceMaster]
    );
    assert!(plans[0].as_ref().unwrap().create);
    assert_eq!(plans[0].as_ref().unwrap().resume, Resume::Never);
}

#[test]
fn what_gnu_mach_refuses_or_does_not_run() {
    for o in observed().iter().filter(|o| o.rsp.is_none()) {
        let plans = plans(o);
        let panicked = o.other.iter().any(|l| l.starts_with("panic"));
        match o.name.as_str() {
            "unknown_var" => {
                assert!(o
                    .other
                    .iter()
                    .any(|l| l == "bootstrap script missing symbol 'nosuch'"));
                let Err(ScriptError::UndefinedSymbol { start, end, .. }) = plans[0] else {
                    panic!("unknown_var: {:?}", plans[0]);
                };
                assert_eq!(&o.initrd.as_bytes()[start..end], b"nosuch");
            }
            "joined" => {
                assert!(o
                    .other
                    .iter()
                    .any(|l| l == "boot_script_task_resume failed with 4"));
                assert_eq!(
                    plans[0].as_ref().unwrap_err(),
                    &ScriptError::ResumeWithoutTask { module: 0 }
                );
            }
            "no_resume" | "no_create" => {
                assert!(!panicked, "{}", o.name);
                let p = plans[0].as_ref().unwrap();
                assert_eq!(p.resume, Resume::Never, "{}", o.name);
                assert_eq!(p.create, o.name == "no_resume");
            }
            other => panic!("observation {other} without a rule in this test"),
        }
    }
}
