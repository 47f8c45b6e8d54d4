//! Integration tests of the draw service beside the directories, on the embedded default and on PostgreSQL with
//! RabbitMQ: launches arrive over the bus, snapshots and inspector pools come from the directories over gRPC.

mod draws;
mod harness {
    pub use suiji_draw::testkit::*;
}
