//! `x86_64-gnu-migcom`: migc as GNU MIG's compiler proper. Reads preprocessed text on standard
//! input and runs no preprocessor (`cpp ... | x86_64-gnu-migcom -user X -server Y -header Z`);
//! GNU's driver finds it with `MIGDIR=<this directory>`.

fn main() -> std::process::ExitCode {
    migc::main(migc::Mode::Migcom)
}
