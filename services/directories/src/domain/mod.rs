//! The directories' rules, in plain Rust with no I/O.

pub mod history;
pub mod industry;
pub mod inspector;
pub mod layout;
pub mod recusal;
pub mod target;
pub mod uscc;
