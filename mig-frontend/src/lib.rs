//! The front end of migc: reads `.defs` files of every MIG dialect into a syntax tree.
//!
//! Pipeline: [`preprocess`] (a built-in C preprocessor, or already-preprocessed input) produces one
//! text buffer and an [`source::OriginMap`]; [`lexer`] turns it into tokens; [`parser`] builds
//! the [`ast::File`] and reports every syntax error it finds, recovering after each.
//! Diagnostics are located in the original files through includes and line markers.
//!
//! This crate does not resolve types, compute message layouts or ids, or generate code
//! (see `mig-ir` and the back ends), and it never panics on any input.

pub mod ast;
pub mod check;
pub mod diagnostics;
pub mod dialect;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod preprocess;
pub mod source;
mod unit;

pub use unit::{io_reason, parse_bytes, parse_in, parse_path, FrontendOptions, Parsed};
