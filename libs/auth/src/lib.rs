//! Who is asking: password hashes, session tokens, CSRF tokens, API keys and the one-time secrets
//! of emailed links. Pure functions over secrets and clocks passed in; no I/O, so the web service
//! decides where revocations and keys are stored.

pub mod api_key;
pub mod csrf;
pub mod password;
pub mod secret;
pub mod session;

pub use api_key::{ApiKey, KeyHash};
pub use session::{Claims, SessionError, SessionKeys};
