//! Integration tests of the catalog service: the real server on port 0 with a real tonic client, on the
//! embedded default (SQLite + in-process bus) and on PostgreSQL + RabbitMQ.

mod events;
mod harness;
mod limits;
mod rejections;
mod scenario;
