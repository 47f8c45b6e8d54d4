//! Generated protobuf messages and gRPC clients/servers for every suiji API, and the descriptor set that
//! the servers expose through gRPC reflection.

#![allow(
    clippy::large_enum_variant,
    clippy::doc_lazy_continuation,
    missing_docs
)]

/// The encoded `FileDescriptorSet` of every suiji proto, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/suiji_descriptor.bin"));

/// `suiji.events.v1`: the envelope every bus message travels in.
pub mod events {
    pub mod v1 {
        tonic::include_proto!("suiji.events.v1");
    }
}

pub mod named;
pub mod topics;

/// What [`heard!`] expands to needs, so a consumer's crate need not name these crates itself.
#[doc(hidden)]
pub mod __private {
    pub use prost;
    pub use prost_types;
}

/// `suiji.admin.v1`: what operators call on every service (the working-day calendar).
pub mod admin {
    pub mod v1 {
        tonic::include_proto!("suiji.admin.v1");
    }
}

/// `suiji.types.v1`: types shared by several services.
pub mod types {
    pub mod v1 {
        tonic::include_proto!("suiji.types.v1");
    }
}

/// `suiji.catalog.v1`: the catalog of inspection items.
pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("suiji.catalog.v1");
        pub use crate::types::v1::TargetKind;
    }
}

/// `suiji.directories.v1`: departments, targets and inspectors.
pub mod directories {
    pub mod v1 {
        tonic::include_proto!("suiji.directories.v1");
        pub use crate::types::v1::TargetKind;
    }
}

/// `suiji.planning.v1`: annual plans, amendments, caps and tasks.
pub mod planning {
    pub mod v1 {
        tonic::include_proto!("suiji.planning.v1");
    }
}

/// `suiji.draw.v1`: the verifiable draw of targets and inspectors.
pub mod draw {
    pub mod v1 {
        tonic::include_proto!("suiji.draw.v1");
    }
}

/// `suiji.inspection.v1`: the joint-inspection saga, visits and findings.
pub mod inspection {
    pub mod v1 {
        tonic::include_proto!("suiji.inspection.v1");
    }
}

/// `suiji.publication.v1`: results, publication, corrections and credit records.
pub mod publication {
    pub mod v1 {
        tonic::include_proto!("suiji.publication.v1");
    }
}
