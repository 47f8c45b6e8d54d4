//! Integration tests of the directories service on the embedded default and on PostgreSQL.

mod api;
mod import;
mod segments;
