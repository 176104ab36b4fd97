//! The scheduler's ops endpoints (`LIFELINE_SCHEDULER_ADDR`): `/healthz`, `/readyz` and
//! `/metrics`, like every service.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::Utc;
use lifeline_store::{PgPool, coverage};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

struct Ops {
    pool: PgPool,
    blind_after: Duration,
    metrics: &'static PrometheusHandle,
}

/// Starts the ops server; returns its address and a handle to stop it.
pub(crate) async fn start(
    addr: SocketAddr,
    pool: PgPool,
    blind_after: Duration,
    metrics: &'static PrometheusHandle,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let state = web::Data::new(Ops {
        pool,
        blind_after,
        metrics,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics_text))
    })
    .disable_signals()
    .workers(1)
    .bind(addr)?;
    let bound = server.addrs().into_iter().next().unwrap_or(addr);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((bound, handle))
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready when Postgres answers. Also says whether Lifeline is blind (no ingest beacon lately),
/// which holds deadlines — worth an operator's page, but no reason to restart the scheduler.
async fn readyz(state: web::Data<Ops>) -> HttpResponse {
    let current = async {
        let mut conn = state.pool.get().await.ok()?;
        coverage::current(&mut conn).await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(2), current).await {
        Ok(Some(state_now)) => HttpResponse::Ok().json(json!({
            "postgres": "ok",
            "covered_until": state_now.covered_until,
            "blind": state_now.blind_at(Utc::now(), state.blind_after),
        })),
        _ => HttpResponse::ServiceUnavailable().json(json!({"postgres": "unavailable"})),
    }
}

async fn metrics_text(state: web::Data<Ops>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
