//! Integration tests of the platform kit against real servers: outbox, relay, bus and inbox together.

mod anchors;
#[path = "../common/mod.rs"]
mod common;
mod fuzz;
mod isolation;
mod jobs;
mod least_privilege;
mod outbox_inbox;
