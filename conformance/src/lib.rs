//! Shared helpers for the conformance tests: where the corpus and the reference set live.

pub mod gnumach;
