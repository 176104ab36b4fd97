use std::time::Duration;

use actix_web::{HttpResponse, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use crate::state::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

#[derive(Serialize)]
struct Readiness {
    postgres: &'static str,
    redis: &'static str,
}

/// Readiness: Postgres must answer, since without it no ping can be acknowledged. Redis is
/// reported but does not make the process unready: ingest works without it (slower), and
/// pulling every replica out of the load balancer during a Redis blip would lose every ping.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let postgres = async {
        let mut conn = state.pool.get().await.ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.ok()
    };
    let postgres = tokio::time::timeout(state.pg_timeout, postgres)
        .await
        .ok()
        .flatten()
        .is_some();
    let mut redis = state.redis.clone();
    let redis_ok = tokio::time::timeout(
        Duration::from_secs(1),
        redis::cmd("PING").query_async::<String>(&mut redis),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    let body = Readiness {
        postgres: if postgres { "ok" } else { "unavailable" },
        redis: if redis_ok { "ok" } else { "degraded" },
    };
    if postgres {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
