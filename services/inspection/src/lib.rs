//! The inspection service: the joint-inspection saga (联合抽查) that takes a launched task through invitations,
//! the draw, the lock and the teams to its visits, one instance per task.
//!
//! [`domain::saga`] is the state machine, pure; `store` keeps each saga as one versioned row with its ordered
//! history and its durable timers; `consumers` feeds it the launches, cancellations and the draw's replies;
//! `service` applies coordinators' actions; `grpc` is the API.

pub mod domain;
