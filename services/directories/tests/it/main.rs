//! Integration tests of the directories service on the embedded default and on PostgreSQL.

mod api;
mod changes;
mod fuzz;
mod history;
mod import;
mod row_numbers;
mod segments;
mod workload;
