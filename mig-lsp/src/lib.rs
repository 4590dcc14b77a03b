//! `mig-lsp`: a language server for MIG `.defs` files, over stdio.
//!
//! Layout (as in rust-analyzer): [`analysis`] knows `.defs` files and nothing of LSP: it works
//! in real paths and byte offsets; [`lsp`] converts between those and protocol types
//! (positions in UTF-16 code units, URIs); [`handlers`] answers each request and notification
//! with the two; [`main_loop`] reads messages and dispatches. Only `lsp`, `handlers` and
//! `main_loop` know LSP.
//!
//! **Architecture invariant:** the diagnostics of a file are those `migc --check` reports
//! with the file's project settings (`migc.toml` or `.mig-lsp.toml`, found walking up), plus
//! the IR's diagnostics for files that declare a subsystem; the text parsed is always the
//! editor's buffer, for the file and for every open file it includes.
//!
//! This crate does not generate code, and no request or input makes it panic: handlers run
//! under `catch_unwind`, and a failure becomes an error response.
//!
//! Missing upstream: the preprocessor reads includes only from disk, so the unsaved buffers of
//! included files are written to a shadow tree (`analysis::overlay`); an overlay option in
//! `mig_frontend::preprocess::PpOptions` would replace it.

pub mod analysis;
pub mod handlers;
pub mod lsp;
pub mod main_loop;

pub use main_loop::run;
