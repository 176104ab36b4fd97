//! What every request handler shares.

use std::sync::Arc;

use lifeline_auth::SessionKeys;
use lifeline_notify::Notifier;
use lifeline_store::{PgPool, PooledConn, RedisKeys};
use redis::aio::ConnectionManager;

use crate::login_limit::LoginLimiter;
use crate::settings::WebSettings;

pub struct AppState {
    pub pool: PgPool,
    pub redis: ConnectionManager,
    pub keys: RedisKeys,
    pub settings: WebSettings,
    pub sessions: SessionKeys,
    /// Signs CSRF tokens (the same secret as sessions, under another HMAC label).
    pub secret: Arc<[u8]>,
    pub notifier: Arc<Notifier>,
    pub login_limit: LoginLimiter,
    /// Password reset requests, per address asked for and per client address.
    pub reset_limit: LoginLimiter,
    pub revocations: crate::revocations::RedisCopy,
    /// The billing service, which alone talks to Stripe.
    pub billing: crate::billing::BillingClient,
}

impl AppState {
    /// A pooled connection; both pages (`PageError`) and the API (`ApiError`) turn the store's
    /// error into their own answer with `?`.
    pub async fn conn(&self) -> Result<PooledConn, lifeline_store::StoreError> {
        Ok(self.pool.get().await?)
    }
}
