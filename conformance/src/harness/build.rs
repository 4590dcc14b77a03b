//! Driving the tools: a MIG for each side's stubs, then gcc over the test program, the
//! harness runtime and the files implementing the two sides.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::program::{generate, Generated};
use super::SUBSYSTEM_FILES;
use crate::paths::{reference_include, repo_root};

/// Runs `mig_cmd` (GNU MIG driver flags) on `defs` with extra output flags.
fn run_mig(mig_cmd: &[&str], include: &Path, defs: &Path, flags: &[String]) -> Result<(), String> {
    let (prog, pre) = mig_cmd.split_first().ok_or("empty MIG command")?;
    let output = Command::new(prog)
        .args(pre)
        .arg(format!("-I{}", include.display()))
        .arg("-n")
        .args(flags)
        .arg(defs)
        .output()
        .map_err(|e| format!("cannot run {prog}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{} on {} failed ({}): {}",
            mig_cmd.join(" "),
            defs.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// The files of one built harness program.
#[derive(Debug, Clone)]
pub struct HarnessBuild {
    pub generated: Generated,
    pub dir: PathBuf,
    pub program: PathBuf,
    /// False when gcc rejected the stubs or the test program (see `warnings`).
    pub built: bool,
    /// What `gcc -Wall -Wextra` said about the stubs and the test program.
    pub warnings: String,
}

/// The stub files of one subsystem in one folder: the client side (user header and stubs,
/// functions prefixed `cli_`) and the server side (server header and stubs).
#[derive(Debug, Clone)]
pub struct StubFiles {
    pub subsystem: String,
    /// The folder holding them; the test program and its binary are written here too.
    pub dir: PathBuf,
    /// The gnumach-dev include folder the stubs were generated against.
    pub include: PathBuf,
    pub user_header: PathBuf,
    pub user_c: PathBuf,
    pub server_header: PathBuf,
    pub server_c: PathBuf,
}

/// Generates the stubs of `subsystem` into `out/<subsystem>/` (emptied first): the client
/// side with `client_mig`, the server side with `server_mig` (GNU MIG driver command lines).
pub fn mig_stubs(
    root: &Path,
    subsystem: &str,
    client_mig: &[&str],
    server_mig: &[&str],
    out: &Path,
) -> Result<StubFiles, String> {
    let (_, defs) = SUBSYSTEM_FILES
        .iter()
        .find(|(s, _)| *s == subsystem)
        .ok_or_else(|| format!("unknown subsystem {subsystem}"))?;
    let include = reference_include(root);
    let defs = include.join(defs);
    let dir = out.join(subsystem);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let files = StubFiles {
        subsystem: subsystem.to_string(),
        user_header: dir.join(format!("{subsystem}.h")),
        user_c: dir.join(format!("{subsystem}User.c")),
        server_header: dir.join(format!("{subsystem}_S.h")),
        server_c: dir.join(format!("{subsystem}Server.c")),
        include: include.clone(),
        dir,
    };
    let f = |p: &Path| p.display().to_string();
    run_mig(
        client_mig,
        &include,
        &defs,
        &[
            "-prefix".into(),
            "cli_".into(),
            "-user".into(),
            f(&files.user_c),
            "-header".into(),
            f(&files.user_header),
        ],
    )?;
    run_mig(
        server_mig,
        &include,
        &defs,
        &[
            "-server".into(),
            f(&files.server_c),
            "-sheader".into(),
            f(&files.server_header),
        ],
    )?;
    Ok(files)
}

/// Writes the test program for `stubs` (routines read from their C text) and compiles it
/// with the harness runtime and `sides`, the files implementing the client and server
/// stubs: the C files of `stubs` for a C back end, or objects (`.o`) of another back end
/// built against the same headers.
pub fn build_program(stubs: &StubFiles, sides: &[PathBuf]) -> Result<HarnessBuild, String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let subsystem = &stubs.subsystem;
    let generated = generate(
        subsystem,
        &read(&stubs.user_header)?,
        &read(&stubs.user_c)?,
        &read(&stubs.server_header)?,
        &read(&stubs.server_c)?,
    );
    let dir = &stubs.dir;
    let test_c = dir.join(format!("{subsystem}_harness.c"));
    std::fs::write(&test_c, &generated.source).map_err(|e| e.to_string())?;

    let harness_dir = repo_root().join("conformance/harness");
    let support = repo_root().join("conformance/gnumach-boot/include");
    let program = dir.join(format!("{subsystem}_harness"));
    let output = Command::new("gcc")
        .args([
            "-std=gnu11",
            "-O1",
            "-g",
            "-Wall",
            "-Wextra",
            "-fno-strict-aliasing",
        ])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-I{}", harness_dir.display()))
        .arg(format!("-I{}", support.display()))
        .arg(format!("-I{}", stubs.include.display()))
        .arg(&test_c)
        .args(sides)
        .arg(harness_dir.join("harness_rt.c"))
        .arg("-o")
        .arg(&program)
        .output()
        .map_err(|e| format!("cannot run gcc: {e}"))?;
    let warnings = String::from_utf8_lossy(&output.stderr).into_owned();
    let built = output.status.success();
    Ok(HarnessBuild {
        generated,
        dir: dir.clone(),
        program,
        built,
        warnings,
    })
}

/// Generates the stubs of `subsystem` (client side with `client_mig`, server side with
/// `server_mig`), writes the test program and builds it into `out/<subsystem>/`:
/// [`mig_stubs`] then [`build_program`] over the two C stub files.
pub fn build_harness(
    root: &Path,
    subsystem: &str,
    client_mig: &[&str],
    server_mig: &[&str],
    out: &Path,
) -> Result<HarnessBuild, String> {
    let stubs = mig_stubs(root, subsystem, client_mig, server_mig, out)?;
    let sides = [stubs.user_c.clone(), stubs.server_c.clone()];
    build_program(&stubs, &sides)
}
