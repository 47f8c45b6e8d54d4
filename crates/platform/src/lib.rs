//! The platform kit every suiji service stands on. Each module is small and tested on its own:
//! configuration, telemetry, database, bus, outbox and inbox, gRPC server, identity, audit trail and the
//! working-day calendar.

pub mod anchors;
pub mod audit;
pub mod audit_api;
pub mod auth;
pub mod bus;
pub mod calendar;
pub mod calendar_api;
pub mod clock;
pub mod config;
pub mod db;
pub mod departments;
pub mod error;
pub mod grants;
pub mod grpc;
pub mod inbox;
pub mod jobs;
pub mod limits;
pub mod messages;
pub mod outbox;
pub mod page;
pub mod paging;
pub mod reference;
pub mod runtime;
pub mod spreadsheet;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod validation;
pub mod vocabulary;
