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
    /// Known MIG defects the harness repaired in a server stub file before building (see
    /// [`repair_inlined_port_arrays`]), each with what gcc said about the unrepaired file.
    pub repaired: Vec<Repair>,
}

/// One repair of a server stub: the stub function, the expression replaced, and gcc's
/// complaint about the file as the MIG wrote it.
#[derive(Debug, Clone)]
pub struct Repair {
    pub function: String,
    pub expression: String,
    pub gcc_error: String,
}

/// Repairs the one known defect of GNU MIG 1.8's x86_64 server stubs (observed on mach4's
/// `memory_object_create_proxy`, the only server-side inline port array of gnumach-dev): the
/// stub passes `InNP->X.name` for an array `mach_port_name_inlined_t X[N]`, which gcc rejects.
/// GNU MIG's own stubs convert such an array element by element in the other direction
/// (`OutP->X[i].name = X[i]`, default_pager's `default_pager_objects`); the repair passes
/// the inverse conversion, the received names as a `mach_port_t` array of the received count.
/// Returns the repaired text and the stub functions and expressions replaced; nothing else
/// in the file changes (type checks, sizes and the reply stay the MIG's).
pub fn repair_inlined_port_arrays(server_c: &str) -> (String, Vec<(String, String)>) {
    let mut arrays = Vec::new();
    for l in server_c.lines() {
        let Some(rest) = l.trim().strip_prefix("mach_port_name_inlined_t ") else {
            continue;
        };
        let Some((name, n)) = rest.strip_suffix("];").and_then(|r| r.split_once('[')) else {
            continue;
        };
        arrays.push((name.to_string(), n.to_string()));
    }
    let mut out = String::with_capacity(server_c.len());
    let mut done = Vec::new();
    let mut function = String::new();
    for line in server_c.lines() {
        let mut line = line.to_string();
        if let Some(f) = line.strip_prefix("mig_internal void ") {
            function = f.trim().to_string();
        }
        for (name, n) in &arrays {
            for k in 0..8 {
                let bad = format!("In{k}P->{name}.name, ");
                let count = format!("In{k}P->{name}Type.msgt_number");
                let count_long = format!("In{k}P->{name}Type.msgtl_number");
                let count = if line.contains(&format!("{bad}{count}")) {
                    count
                } else if line.contains(&format!("{bad}{count_long}")) {
                    count_long
                } else {
                    continue;
                };
                let good = format!(
                    "({{ static mach_port_t h_{name}[{n}]; for (mach_msg_type_number_t h_i = 0; h_i < {count}; h_i++) h_{name}[h_i] = In{k}P->{name}[h_i].name; h_{name}; }}), "
                );
                line = line.replace(&bad, &good);
                done.push((function.clone(), bad.trim_end_matches(", ").to_string()));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    (out, done)
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
        repaired: Vec::new(),
    })
}

/// Compiles one C file alone (`-c`, the harness's flags); gcc's complaint when it fails.
fn compile_alone(stubs: &StubFiles, file: &Path) -> Result<(), String> {
    let output = Command::new("gcc")
        .args([
            "-std=gnu11",
            "-O1",
            "-Wall",
            "-Wextra",
            "-fno-strict-aliasing",
            "-c",
        ])
        .arg(format!("-I{}", stubs.dir.display()))
        .arg(format!(
            "-I{}",
            repo_root()
                .join("conformance/gnumach-boot/include")
                .display()
        ))
        .arg(format!("-I{}", stubs.include.display()))
        .arg(file)
        .arg("-o")
        .arg(stubs.dir.join("compile-alone.o"))
        .output()
        .map_err(|e| format!("cannot run gcc: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Generates the stubs of `subsystem` (client side with `client_mig`, server side with
/// `server_mig`), writes the test program and builds it into `out/<subsystem>/`:
/// [`mig_stubs`] then [`build_program`] over the two C stub files. A server stub file gcc
/// rejects alone is repaired first when the defect is the known one
/// ([`repair_inlined_port_arrays`]); the build lists what was repaired.
pub fn build_harness(
    root: &Path,
    subsystem: &str,
    client_mig: &[&str],
    server_mig: &[&str],
    out: &Path,
) -> Result<HarnessBuild, String> {
    let stubs = mig_stubs(root, subsystem, client_mig, server_mig, out)?;
    let mut repaired = Vec::new();
    let mut server_c = stubs.server_c.clone();
    if let Err(gcc_error) = compile_alone(&stubs, &stubs.server_c) {
        let text = std::fs::read_to_string(&stubs.server_c).map_err(|e| e.to_string())?;
        let (fixed, done) = repair_inlined_port_arrays(&text);
        if !done.is_empty() {
            server_c = stubs.dir.join(format!("{subsystem}Server.repaired.c"));
            std::fs::write(&server_c, fixed).map_err(|e| e.to_string())?;
            repaired = done
                .into_iter()
                .map(|(function, expression)| Repair {
                    function,
                    expression,
                    gcc_error: gcc_error.clone(),
                })
                .collect();
        }
    }
    let mut build = build_program(&stubs, &[stubs.user_c.clone(), server_c])?;
    build.repaired = repaired;
    Ok(build)
}
