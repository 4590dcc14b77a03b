//! The `migc` binary: GNU's `mig` driver, or `migcom` when it is called by a name ending in
//! `migcom` (a symlink).

fn main() -> std::process::ExitCode {
    let argv0 = std::env::args().next().unwrap_or_default();
    migc::main(migc::Mode::from_program_name(&argv0))
}
