//! The errors of a service call and the one place they become gRPC statuses: validation → `InvalidArgument`
//! with field violations, not found, already exists, failed precondition, aborted (stale revision), permission
//! denied naming the field; anything else is logged in full and returned as a bare `Internal`.

use tonic::Status;

use crate::validation::{Denied, NotNow, Violations};

/// Everything a service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong; each field says why.
    #[error("invalid input: {0}")]
    Invalid(Violations),
    /// No credentials.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller may not do this.
    #[error("permission denied: {}: {}", .0.field, .0.reason)]
    Denied(Denied),
    /// No such thing.
    #[error("not found: {0}")]
    NotFound(crate::messages::Text),
    /// The key is taken.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The state does not allow this now.
    #[error("failed precondition: {}", .0.0.text())]
    NotNow(NotNow),
    /// The record changed since the caller read it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else; logged in full, returned without detail.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<Violations> for Error {
    fn from(v: Violations) -> Self {
        Self::Invalid(v)
    }
}

impl From<Denied> for Error {
    fn from(d: Denied) -> Self {
        Self::Denied(d)
    }
}

impl From<NotNow> for Error {
    fn from(n: NotNow) -> Self {
        Self::NotNow(n)
    }
}

impl From<Result<NotNow, Violations>> for Error {
    fn from(e: Result<NotNow, Violations>) -> Self {
        match e {
            Ok(n) => Self::NotNow(n),
            Err(v) => Self::Invalid(v),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unique_violation(&e) {
            return Self::AlreadyExists("a record with this key already exists".into());
        }
        Self::Internal(e.to_string())
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(v) => crate::grpc::invalid_argument(&v),
            Error::Unauthenticated => Status::unauthenticated("this call needs a bearer token"),
            Error::Denied(d) => crate::grpc::permission_denied(&d.field, &d.reason),
            Error::NotFound(m) => crate::grpc::not_found(&m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::NotNow(n) => crate::grpc::failed_precondition(&n.0),
            Error::Conflict(m) => Status::aborted(m),
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
