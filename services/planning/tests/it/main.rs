//! Integration tests of the planning service with the catalog beside it: real servers on port 0, real tonic
//! clients, catalog items reaching planning through the bus; on the embedded default (SQLite + in-process bus)
//! and on PostgreSQL + RabbitMQ.

mod harness;
mod plans;
mod tasks;
