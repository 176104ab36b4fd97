//! The scheduler's ops endpoints (`LIFELINE_SCHEDULER_ADDR`): `/healthz`, `/readyz` and
//! `/metrics`, like every service.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_store::PgPool;
use lifeline_store::schema::coverage;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

struct Ops {
    pool: PgPool,
    blind_after: Duration,
    metrics: &'static PrometheusHandle,
}

/// Starts the ops server; returns its address and a handle to stop it.
pub async fn start(
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
    let covered = async {
        let mut conn = state.pool.get().await.ok()?;
        coverage::table
            .select(coverage::covered_until)
            .first::<Option<chrono::DateTime<Utc>>>(&mut conn)
            .await
            .ok()
    };
    match tokio::time::timeout(Duration::from_secs(2), covered).await {
        Ok(Some(covered)) => {
            let limit = chrono::Duration::from_std(state.blind_after).unwrap_or_default();
            let blind = covered.is_none_or(|c| Utc::now() - c > limit);
            HttpResponse::Ok().json(json!({
                "postgres": "ok",
                "covered_until": covered,
                "blind": blind,
            }))
        }
        _ => HttpResponse::ServiceUnavailable().json(json!({"postgres": "unavailable"})),
    }
}

async fn metrics_text(state: web::Data<Ops>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
