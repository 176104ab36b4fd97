//! The Redis connection every service shares: multiplexed, reconnecting, and bounded in time so
//! that a Redis outage degrades features instead of stalling requests. Every Redis client is made
//! by [`client`], so that `rediss://` works the same for commands and for pub/sub.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, TlsCertificates};

use crate::{StoreSettings, tls};

/// A client for `REDIS_URL`. A `rediss://` URL connects over TLS (rustls) and checks the server
/// against `LIFELINE_REDIS_CA_FILE` when it is set, else against the system's roots; redis-rs's
/// `#insecure` fragment turns the check off.
pub fn client(settings: &StoreSettings) -> Result<Client, RedisError> {
    // redis-rs builds its TLS configuration on the process's rustls provider.
    tls::install_provider();
    let Some(ca_file) = &settings.redis_ca_file else {
        return Client::open(settings.redis_url.as_str());
    };
    let pem = std::fs::read(ca_file).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("LIFELINE_REDIS_CA_FILE {}: {e}", ca_file.display()),
        )
    })?;
    Client::build_with_tls(
        settings.redis_url.as_str(),
        TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        },
    )
}

/// Opens the managed connection. Fails only when the URL (or the CA file) is unusable; an
/// unreachable server is retried in the background while callers get fast errors.
pub fn connect(settings: &StoreSettings) -> Result<ConnectionManager, RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(settings.redis_timeout))
        .set_response_timeout(Some(settings.redis_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_lazy_with_config(client(settings)?, config)
}
