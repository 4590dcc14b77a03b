//! `cargo xtask`: the project's build, boot, test and benchmark tasks.
//!
//! A thin dispatcher: each subcommand lives in its own module. The kernel tasks
//! (`build`, `run`, `test`, `iso`, `bench kernel`) are in [`kernel`]; they build the
//! freestanding kernel in its own cargo workspace under `kernel/`, so its flags never
//! reach host crates.

mod kernel;
mod mig_bench;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Mach_R project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the kernel ELF and the user test programs.
    Build,
    /// Boot the kernel under QEMU (PVH) with the user programs; extra words go to the command line.
    Run {
        /// Kernel command-line words.
        args: Vec<String>,
    },
    /// Run the in-kernel test suite under QEMU.
    Test {
        /// Boot through a GRUB Multiboot2 ISO instead of PVH.
        #[arg(long)]
        grub: bool,
        /// Boot through a Limine ISO made from this Limine directory (default: $LIMINE_DIR).
        #[arg(long, value_name = "DIR")]
        limine: Option<Option<PathBuf>>,
        /// Print the whole serial transcript.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Build a bootable ISO.
    Iso {
        /// A GRUB (Multiboot2) BIOS ISO from the Debian GRUB packages.
        #[arg(long, conflicts_with = "limine")]
        grub: bool,
        /// A BIOS+UEFI Limine ISO from a Limine installation directory.
        #[arg(long, value_name = "DIR")]
        limine: Option<PathBuf>,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
        /// Kernel command line in the boot entry.
        #[arg(long, default_value = "")]
        cmdline: String,
    },
    /// Run benchmarks: `kernel`, `frontend` (parse the corpora), `mig` (GNU MIG vs migc, and
    /// `mig-obj`: the object back end against gcc -O2),
    /// `lsp` (diagnostics latency); no target runs every section.
    Bench {
        /// Section to run (`kernel`, `frontend`, `mig`, `mig-obj`, `lsp`); all when omitted.
        target: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build => kernel::build_all().map(|_| ()),
        Command::Run { args } => kernel::run(&args),
        Command::Test {
            grub,
            limine,
            verbose,
        } => kernel::test(kernel::BootVia::from_flags(grub, limine), verbose),
        Command::Iso {
            grub,
            limine,
            output,
            cmdline,
        } => kernel::iso_command(grub, limine, &output, &cmdline),
        Command::Bench { target } => match target.as_deref() {
            None => kernel::bench::run()
                .and_then(|()| cargo_bench("conformance", "frontend"))
                .and_then(|()| cargo_bench("conformance", "mig"))
                .and_then(|()| cargo_bench("migc", "against_gnu"))
                .and_then(|()| mig_bench::run_obj())
                .and_then(|()| cargo_bench("mig-lsp", "latency")),
            Some("kernel") => kernel::bench::run(),
            Some("frontend") => cargo_bench("conformance", "frontend"),
            Some("mig") => cargo_bench("conformance", "mig")
                .and_then(|()| cargo_bench("migc", "against_gnu"))
                .and_then(|()| mig_bench::run_obj()),
            Some("mig-obj") => mig_bench::run_obj(),
            Some("lsp") => cargo_bench("mig-lsp", "latency"),
            Some(other) => Err(format!(
                "unknown bench section `{other}` (known: kernel, frontend, mig, mig-obj, lsp)"
            )),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one of the compiler workspace's `harness = false` benchmarks, which print their figures.
fn cargo_bench(package: &str, bench: &str) -> Result<(), String> {
    println!("== bench {bench} ({package})");
    let status = std::process::Command::new(env!("CARGO"))
        .args(["bench", "--quiet", "-p", package, "--bench", bench])
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("bench {bench} failed ({status})"))
    }
}
