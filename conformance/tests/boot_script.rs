//! GNU Mach's boot script across modules: a task variable defined by one module line
//! (`$(peer=task-create)`, a task left suspended) and named in another (`--peer-task=${peer}`,
//! the line before it). `conformance/suite/boot-peer.c` looks at the peer through the send
//! right it got; the same binaries boot on GNU Mach and on Mach_R by the same QEMU command, and
//! the transcripts must be what GNU Mach printed (`conformance/suite/expected/boot-peer.script.txt`,
//! rewritten from GNU Mach with `SUITE_BLESS=1`).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use conformance::suite::{
    boot_script, build, first_difference, mach_r_kernel, migc_binary, suite_dir, SuiteBuild,
};

const LIMIT: Duration = Duration::from_secs(30);

/// The two module lines: boot-peer with the peer's task port, then the peer itself.
const MODULES: &str = "boot-peer.elf --host-priv-port=${host-port} --device-master-port=${device-port} \
                       --peer-task=${peer} $(task-create) $(task-resume),boot-peer.elf $(peer=task-create)";

fn suite() -> &'static SuiteBuild {
    static BUILD: OnceLock<SuiteBuild> = OnceLock::new();
    BUILD.get_or_init(|| {
        let migc = migc_binary().unwrap_or_else(|e| panic!("{e}"));
        let migc = migc.display().to_string();
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boot-script-migc");
        build(&[&migc, "-D__x86_64__"], &out).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn expected_path() -> PathBuf {
    suite_dir().join("expected/boot-peer.script.txt")
}

fn lines_on(kernel: &std::path::Path) -> Vec<String> {
    let run =
        boot_script(suite(), "boot-peer", MODULES, kernel, LIMIT).unwrap_or_else(|e| panic!("{e}"));
    let cut = run.cut();
    let all = run.transcript();
    assert!(!run.timed_out, "QEMU did not exit within {LIMIT:?}:\n{all}");
    assert!(cut.begun && cut.ended, "no complete run:\n{all}");
    assert_eq!(run.exit_code, Some(0), "QEMU's exit status:\n{all}");
    cut.lines
}

fn expected() -> Vec<String> {
    let text = std::fs::read_to_string(expected_path())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", expected_path().display()));
    text.lines().map(str::to_string).collect()
}

/// One test, so the two boots run one after the other (one QEMU at a time, one console log).
#[test]
fn the_two_module_script_runs_on_both_kernels_as_gnu_mach_recorded() {
    let lines = lines_on(&suite().gnumach);
    if std::env::var_os("SUITE_BLESS").is_some() {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(expected_path(), text).expect("write the expected transcript");
    } else if let Some(d) = first_difference(&expected(), &lines) {
        panic!(
            "GNU Mach's transcript differs from {}: {d}",
            expected_path().display()
        );
    }
    let kernel = mach_r_kernel().unwrap_or_else(|e| panic!("{e}"));
    let lines = lines_on(&kernel);
    if let Some(d) = first_difference(&expected(), &lines) {
        panic!("Mach_R's transcript differs from GNU Mach's: {d}");
    }
}
