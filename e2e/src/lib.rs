//! Whole-system scenarios and benchmarks for suiji. The benchmarks print their figures; they assert nothing
//! about time.

pub mod console_bench;
pub mod processes;
pub mod publication_bench;
pub mod saga_bench;
pub mod search_bench;
