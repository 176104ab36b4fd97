//! The team dashboard and the management API: server-rendered pages (askama templates in
//! `web/templates`, one stylesheet in `web/static`), sessions in a signed cookie, and the JSON
//! API under `/api/v1/` for scripts with team API keys. Every page and API call acts through a
//! `TeamScope` built from the caller's membership or key, so another team's rows are out of reach.

mod accounts;
mod actions;
mod api;
mod api_keys;
mod billing;
mod channels;
mod cookies;
pub mod error;
mod form;
mod heartbeats;
mod links;
mod login_limit;
mod page;
mod revocations;
pub mod routes;
mod session;
pub mod settings;
mod state;
mod statics;
mod teams;
mod time_zones;
mod timing;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use lifeline_notify::{Notifier, NotifySettings};
use lifeline_ops::{Endpoints, Readiness, Ready};
use lifeline_store::{PgPool, RedisKeys, StoreSettings, accounts as store_accounts};
use redis::aio::ConnectionManager;

pub use settings::WebSettings;

use crate::login_limit::LoginLimiter;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("LIFELINE_WEB_ADDR: cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("DATABASE_URL: reading the session and billing secrets: {0}")]
    Secret(lifeline_store::StoreError),
    #[error(transparent)]
    Store(#[from] lifeline_store::StoreError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Notify(#[from] lifeline_notify::SettingError),
}

/// A started web service.
pub struct Running {
    pub addr: SocketAddr,
    server: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting connections and lets requests in flight finish.
    pub async fn stop(self) -> std::io::Result<()> {
        self.server.stop(true).await;
        let served = self
            .task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        for task in self.background {
            task.abort();
        }
        served
    }
}

/// Postgres must answer (no page works without it); Redis is reported, but the dashboard works
/// without it (sessions are checked in Postgres, login limits counted per process).
struct WebReadiness {
    pool: PgPool,
    redis: ConnectionManager,
    pg_timeout: std::time::Duration,
}

impl Readiness for WebReadiness {
    async fn check(&self) -> Ready {
        let health = lifeline_store::health::check(&self.pool, &self.redis, self.pg_timeout).await;
        if health.postgres {
            Ready::ok(health.body())
        } else {
            Ready::unavailable(health.body())
        }
    }
}

/// Starts the web service and returns once it listens.
pub async fn start(
    settings: WebSettings,
    store: StoreSettings,
    notify: NotifySettings,
) -> Result<Running, StartError> {
    let pool = lifeline_store::pg::pool(&store)?;
    let redis = lifeline_store::redis_conn::connect(&store)?;
    let keys = RedisKeys::new(store.redis_prefix.clone());
    let metrics = lifeline_ops::prometheus();

    let secret: Vec<u8> = match &settings.session_secret {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            let mut conn = pool.get().await.map_err(|e| StartError::Secret(e.into()))?;
            let fresh = lifeline_auth::secret::token();
            store_accounts::server_secret(&mut conn, "session", fresh.as_bytes())
                .await
                .map_err(StartError::Secret)?
        }
    };
    let sessions = lifeline_auth::SessionKeys::new(
        &secret,
        chrono::Duration::from_std(settings.session_ttl).unwrap_or(chrono::Duration::days(14)),
    );
    let billing_key = {
        let mut conn = pool.get().await.map_err(|e| StartError::Secret(e.into()))?;
        lifeline_store::billing::service_key(&mut conn, &lifeline_auth::secret::token())
            .await
            .map_err(StartError::Secret)?
    };
    let notifier = Arc::new(Notifier::new(notify)?);
    let login_limit = LoginLimiter::new(
        redis.clone(),
        keys.clone(),
        settings.login_max_failures,
        settings.login_window,
    );
    let reset_limit = LoginLimiter::counting(
        login_limit::Counted::ResetRequests,
        redis.clone(),
        keys.clone(),
        settings.login_max_failures,
        settings.login_window,
    );
    let ops = Endpoints::new(
        WebReadiness {
            pool: pool.clone(),
            redis: redis.clone(),
            pg_timeout: store.pg_timeout,
        },
        metrics,
    );
    let state = web::Data::new(AppState {
        pool,
        redis,
        keys,
        settings: settings.clone(),
        sessions,
        secret: Arc::from(secret),
        notifier,
        login_limit,
        reset_limit,
        revocations: Default::default(),
        billing: billing::BillingClient::new(&settings.billing_url, billing_key),
    });
    let sync = tokio::spawn(revocations::sync(state.clone()));

    let app_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(api::json_config())
            .app_data(api::query_config())
            .wrap(from_fn(cookies::middleware))
            .wrap(from_fn(lifeline_ops::no_body_for_head))
            // Outermost, so the time includes every other middleware.
            .wrap(from_fn(timing::middleware))
            .configure(routes::configure)
            .configure(|cfg| ops.configure(cfg))
            .default_service(web::to(not_found))
    })
    .disable_signals()
    .shutdown_timeout(10);
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    let server = server
        .bind(settings.addr)
        .map_err(|source| StartError::Bind {
            addr: settings.addr,
            source,
        })?;
    let addr = server.addrs().first().copied().unwrap_or(settings.addr);
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%addr, public_url = %settings.public_url, "dashboard listening");
    Ok(Running {
        addr,
        server: handle,
        task,
        background: vec![sync],
    })
}

async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    if req.path().starts_with("/api/") {
        return api::not_found();
    }
    actix_web::ResponseError::error_response(&error::PageError::NotFound)
}
