//! Planning's errors: the platform's service error.

pub use suiji_platform::error::Error;
