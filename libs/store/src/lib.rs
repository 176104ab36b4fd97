//! Storage for Lifeline: the diesel schema and typed queries over Postgres, the Redis key names
//! and connection pools. Storage loads rows and writes what `lifeline-domain` decided; the
//! rules themselves live there. `docs/architecture.md` has the tables and keys.
//!
//! Every query on a tenant table takes a [`TeamScope`]; the few unscoped functions serve the ping
//! API (where the secret token is the credential) and the operator CLI, and say so.

pub mod accounts;
pub mod ai;
pub mod ai_models;
pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod channels;
pub mod coverage;
pub mod deadlines;
mod decisions;
pub mod error;
pub mod flapping;
pub mod health;
pub mod heartbeats;
pub mod history;
pub mod incidents;
pub mod invitations;
pub mod keys;
mod label;
pub mod members;
pub mod notifications;
pub mod one_time;
pub mod password_resets;
pub mod pg;
mod pg_tls;
pub mod pings;
pub mod redis_conn;
pub mod retention;
mod row_address;
pub mod schema;
pub mod scope;
pub mod settings;
pub mod teams;
mod timing_rows;
mod tls;
pub mod tokens;
pub mod users;
pub mod wake;

pub use error::StoreError;
pub use keys::RedisKeys;
pub use pg::{PgConn, PgPool, PooledConn};
pub use scope::{KeyScope, TeamScope};
pub use settings::StoreSettings;
