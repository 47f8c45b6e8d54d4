//! The inspection service's rules, with no I/O.

pub mod saga;
pub mod transfer;
pub mod visit;
