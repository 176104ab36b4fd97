//! The Redis connection every service shares: multiplexed, reconnecting, and bounded in time so
//! that a Redis outage degrades features instead of stalling requests.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::StoreSettings;

/// Opens the managed connection. Fails only when the URL is invalid; an unreachable server is
/// retried in the background while callers get fast errors.
pub fn connect(settings: &StoreSettings) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(settings.redis_url.as_str())?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(settings.redis_timeout))
        .set_response_timeout(Some(settings.redis_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_lazy_with_config(client, config)
}
