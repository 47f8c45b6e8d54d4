//! Whole-system scenarios and benchmarks for suiji. The benchmarks print their figures; they assert nothing
//! about time.

pub mod processes;
pub mod publication_bench;
pub mod saga_bench;
