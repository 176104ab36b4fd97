use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in storage, sorted by what the caller should tell its user.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, or belongs to another team (the two are indistinguishable).
    #[error("not found")]
    NotFound,
    /// The request breaks a rule of the data model (the message says which).
    #[error("{0}")]
    Invalid(String),
    /// The caller's role (or a read-only API key) does not allow this; the message says what is
    /// needed.
    #[error("{0}")]
    Forbidden(String),
    /// The team's plan does not allow this.
    #[error("{0}")]
    PlanLimit(String),
    /// Postgres cannot be reached, or the pool has no connection to give in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(DieselError),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info)
                if info.constraint_name().is_some() =>
            {
                StoreError::Invalid(format!(
                    "already exists ({})",
                    info.constraint_name().unwrap_or_default()
                ))
            }
            other => {
                // A dropped socket surfaces as an unknown error from the driver: no SQLSTATE.
                let text = other.to_string();
                if text.contains("connection closed")
                    || text.contains("Connection reset")
                    || text.contains("broken pipe")
                    || text.contains("terminating connection")
                {
                    StoreError::Unavailable(text)
                } else {
                    StoreError::Database(other)
                }
            }
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for StoreError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// An error and its causes on one line: the outermost message alone ("error connecting to
/// server", "error sending request") says little.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
