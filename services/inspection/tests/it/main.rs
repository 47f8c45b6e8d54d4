//! Integration tests of the inspection service beside the directories and the draw, on the embedded default and
//! on PostgreSQL with RabbitMQ: the saga hears the launch, the departments answer over gRPC, and the draw
//! carries out the saga's commands.

mod saga;
mod store;
