//! The directories service: the two directories (两库) — inspection targets and inspectors — and the
//! departments every other service refers to.

pub mod domain;
pub mod generate;
