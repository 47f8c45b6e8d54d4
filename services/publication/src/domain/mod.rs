//! The publication service's rules, plain Rust without I/O.

pub mod codes;
pub mod public;
pub mod result;
