//! Billing: plans through Stripe. Checkout sessions for upgrades and the customer portal (asked
//! for by the dashboard over [`internal`]), the signed webhook whose events change plans
//! ([`webhook`], through `lifeline_store::billing`, the one place plans change), and the plan
//! changes due at the end of paid periods ([`period_end`]). The only crate that depends on
//! `async-stripe`.

pub mod apply;
pub mod events;
mod internal;
mod ops;
mod period_end;
mod service;
pub mod sessions;
pub mod settings;
pub mod test_payloads;
mod webhook;

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use lifeline_domain::billing_service::{CHECKOUT_PATH, PORTAL_PATH, STATUS_PATH};
use lifeline_notify::{Notifier, NotifySettings};
use lifeline_ops::{Endpoints, PrometheusHandle};
use lifeline_store::{RedisKeys, StoreSettings};
use tokio::sync::watch;

pub use settings::{BillingSettings, StripeSettings};

use crate::service::Billing;

/// Where Stripe posts events.
pub const WEBHOOK_PATH: &str = "/billing/stripe/webhook";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] lifeline_store::StoreError),
    #[error("LIFELINE_BILLING_ADDR: cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("LIFELINE_STRIPE_API_BASE: {0}")]
    Stripe(#[from] stripe::StripeError),
    #[error(transparent)]
    Notify(#[from] lifeline_notify::SettingError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
}

/// A started billing service.
pub struct Running {
    /// Where it listens: the webhook, the dashboard's internal API and the ops endpoints.
    pub addr: SocketAddr,
    server: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: watch::Sender<bool>,
    period_end: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting requests, lets the events being applied finish, then stops the
    /// period-end loop after its current batch.
    pub async fn stop(self) -> std::io::Result<()> {
        self.server.stop(true).await;
        let served = self
            .task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        let _ = self.stop.send(true);
        let _ = self.period_end.await;
        served
    }
}

/// Starts the billing service and returns once it listens. Emails (a failed payment) go out
/// with `notify`'s SMTP settings.
pub async fn start(
    settings: BillingSettings,
    store: StoreSettings,
    notify: NotifySettings,
    metrics: &'static PrometheusHandle,
) -> Result<Running, StartError> {
    let pool = lifeline_store::pg::pool(&store)?;
    let key = {
        let mut conn = pool.get().await.map_err(lifeline_store::StoreError::from)?;
        lifeline_store::billing::service_key(&mut conn, &lifeline_auth::secret::token()).await?
    };
    // Wake-ups for the scheduler; while Redis is away its poll covers them.
    let redis = (
        lifeline_store::redis_conn::connect(&store)?,
        RedisKeys::new(store.redis_prefix.clone()),
    );
    let stripe = settings
        .stripe
        .clone()
        .map(sessions::Stripe::new)
        .transpose()?;
    if stripe.is_none() {
        tracing::info!(
            "Stripe is not configured (LIFELINE_STRIPE_*): plans are set by the operator only"
        );
    }
    let ops = Endpoints::new(
        ops::BillingReadiness {
            pool: pool.clone(),
            stripe_configured: stripe.is_some(),
        },
        metrics,
    );
    let state = web::Data::new(Billing {
        pool,
        stripe,
        key,
        notifier: Notifier::new(notify)?,
        redis,
    });
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .route(WEBHOOK_PATH, web::post().to(webhook::receive))
            .route(STATUS_PATH, web::get().to(internal::status))
            .route(CHECKOUT_PATH, web::post().to(internal::checkout))
            .route(PORTAL_PATH, web::post().to(internal::portal))
            .configure(|cfg| ops.configure(cfg))
    })
    .disable_signals()
    .workers(2)
    .shutdown_timeout(10)
    .bind(settings.addr)
    .map_err(|source| StartError::Bind {
        addr: settings.addr,
        source,
    })?;
    let addr = server.addrs().first().copied().unwrap_or(settings.addr);
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    let (stop, stopped) = watch::channel(false);
    let period_end = tokio::spawn(period_end::run(state, settings.check_every, stopped));
    tracing::info!(%addr, webhook = WEBHOOK_PATH, "billing listening");
    Ok(Running {
        addr,
        server: handle,
        task,
        stop,
        period_end,
    })
}
