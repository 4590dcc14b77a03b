//! The `mig-lsp` binary: the language server on standard input and output.

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--version") {
        println!("mig-lsp {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let result = mig_lsp::run(connection);
    let joined = io_threads.join();
    match (result, joined) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(e), _) => {
            eprintln!("mig-lsp: error: {e}");
            ExitCode::FAILURE
        }
        (_, Err(e)) => {
            eprintln!("mig-lsp: error: {e}");
            ExitCode::FAILURE
        }
    }
}
