//! Shared helpers for the conformance tests: where the corpus and the reference set live.

pub mod corpus;
pub mod gnumach;
pub mod harness;
