//! The directories' rules, in plain Rust with no I/O.

pub mod industry;
pub mod target;
pub mod uscc;
