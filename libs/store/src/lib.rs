//! Storage for Lifeline: the diesel schema and typed queries over Postgres, the Redis key names,
//! and connection pools. (Each test's own database is made by the `lifeline-testkit` crate.)
//!
//! Every query on a tenant table takes a [`TeamScope`]; the few unscoped functions serve the ping
//! API (where the secret token is the credential) and the operator CLI, and say so.

pub mod channels;
pub mod coverage;
pub mod deadlines;
pub mod error;
pub mod heartbeats;
pub mod incidents;
pub mod keys;
pub mod notifications;
pub mod pg;
pub mod pings;
pub mod redis_conn;
pub mod retention;
pub mod schema;
pub mod scope;
pub mod settings;
pub mod teams;
mod timing_rows;
pub mod tokens;
pub mod users;
pub mod wake;

pub use error::StoreError;
pub use keys::RedisKeys;
pub use pg::{PgConn, PgPool};
pub use scope::TeamScope;
pub use settings::{EnvError, StoreSettings};
