//! Unit tests of the preprocessor: one test per feature, over in-memory and temporary files.
