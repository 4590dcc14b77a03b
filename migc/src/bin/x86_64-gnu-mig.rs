//! `x86_64-gnu-mig`: migc under GNU MIG's driver name, for `configure` scripts that look for
//! `${host}-mig` (`MIG=x86_64-gnu-mig`). The same library as `migc`, compiled once.

fn main() -> std::process::ExitCode {
    migc::main(migc::Mode::Driver)
}
