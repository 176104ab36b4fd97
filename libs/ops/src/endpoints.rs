//! `/healthz`, `/readyz` and `/metrics`, served the same way by every service role.
//!
//! - `/healthz` answers `200 ok` while the process serves HTTP: liveness, so a wedged process is
//!   restarted.
//! - `/readyz` answers `200` or `503` with a JSON body, from the service's own [`Readiness`]:
//!   what it needs before traffic should reach it, and what an operator wants to see.
//! - `/metrics` renders the process's Prometheus recorder.
//!
//! A service either mounts them on its own `App` ([`Endpoints::configure`]) or serves them on an
//! address of their own ([`Endpoints::serve`]), for roles that have no public HTTP server.

use std::future::Future;
use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::PrometheusHandle;

/// Mounts `/healthz` alone, for a public address whose readiness and metrics are served
/// elsewhere (on an ops address, out of the internet's reach).
pub fn configure_liveness(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz));
}

/// What `/readyz` answers: ready (`200`) or not (`503`), and a JSON body saying why.
#[derive(Clone, Debug, PartialEq)]
pub struct Ready {
    ready: bool,
    body: serde_json::Value,
}

impl Ready {
    pub fn ok(body: serde_json::Value) -> Self {
        Self { ready: true, body }
    }

    pub fn unavailable(body: serde_json::Value) -> Self {
        Self { ready: false, body }
    }
}

/// What "ready" means for one service. A check bounds its own waits: a probe that hangs
/// tells an orchestrator less than a quick `503`.
pub trait Readiness: Send + Sync + 'static {
    fn check(&self) -> impl Future<Output = Ready> + Send;
}

struct Shared<R> {
    readiness: R,
    metrics: &'static PrometheusHandle,
}

/// The ops endpoints of one service: cheap to clone, one per HTTP worker.
pub struct Endpoints<R> {
    shared: web::Data<Shared<R>>,
}

impl<R> Clone for Endpoints<R> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<R: Readiness> Endpoints<R> {
    /// `metrics` is the recorder `/metrics` renders: [`prometheus`](crate::prometheus) outside
    /// tests that want one of their own.
    pub fn new(readiness: R, metrics: &'static PrometheusHandle) -> Self {
        Self {
            shared: web::Data::new(Shared { readiness, metrics }),
        }
    }

    /// Mounts the three endpoints on a service's own `App`. Their state is attached to their
    /// routes only, so it cannot clash with the service's own `app_data`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/healthz", web::get().to(healthz))
            .service(
                web::resource("/readyz")
                    .app_data(self.shared.clone())
                    .route(web::get().to(readyz::<R>)),
            )
            .service(
                web::resource("/metrics")
                    .app_data(self.shared.clone())
                    .route(web::get().to(metrics::<R>)),
            );
    }

    /// Serves the endpoints alone on `addr` (one worker: probes and scrapes are rare), and
    /// returns once it listens, so a port in use fails start-up.
    pub fn serve(self, addr: SocketAddr) -> std::io::Result<OpsServer> {
        let server = HttpServer::new(move || {
            let endpoints = self.clone();
            App::new().configure(move |cfg| endpoints.configure(cfg))
        })
        .disable_signals()
        .workers(1)
        .bind(addr)?;
        let bound = server.addrs().first().copied().unwrap_or(addr);
        let server = server.run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        Ok(OpsServer {
            addr: bound,
            handle,
            task,
        })
    }
}

/// The ops endpoints served on their own address.
pub struct OpsServer {
    addr: SocketAddr,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl OpsServer {
    /// Where it listens (useful when configured with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops it, letting requests in flight finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

async fn readyz<R: Readiness>(shared: web::Data<Shared<R>>) -> HttpResponse {
    let ready = shared.readiness.check().await;
    if ready.ready {
        HttpResponse::Ok().json(ready.body)
    } else {
        HttpResponse::ServiceUnavailable().json(ready.body)
    }
}

async fn metrics<R: Readiness>(shared: web::Data<Shared<R>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(shared.metrics.render())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::http::StatusCode;
    use actix_web::http::header::CONTENT_TYPE;
    use actix_web::test;
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    struct Fixed(Ready);

    impl Readiness for Fixed {
        async fn check(&self) -> Ready {
            self.0.clone()
        }
    }

    fn endpoints(ready: Ready) -> Endpoints<Fixed> {
        Endpoints::new(Fixed(ready), crate::prometheus())
    }

    async fn get(endpoints: Endpoints<Fixed>, path: &str) -> (StatusCode, Option<String>, String) {
        let app =
            test::init_service(App::new().configure(move |cfg| endpoints.configure(cfg))).await;
        let res = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        let status = res.status();
        let content_type = res
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = test::read_body(res).await;
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[actix_web::test]
    async fn healthz_says_ok() {
        let (status, content_type, body) =
            get(endpoints(Ready::unavailable(json!({}))), "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("text/plain"));
        assert_eq!(body, "ok\n");
    }

    #[actix_web::test]
    async fn readyz_answers_the_services_check() {
        let (status, content_type, body) =
            get(endpoints(Ready::ok(json!({"postgres": "ok"}))), "/readyz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(body, r#"{"postgres":"ok"}"#);

        let down = Ready::unavailable(json!({"postgres": "unavailable"}));
        let (status, _, body) = get(endpoints(down), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, r#"{"postgres":"unavailable"}"#);
    }

    #[actix_web::test]
    async fn metrics_renders_the_recorder_as_prometheus_text() {
        let (status, content_type, _) = get(endpoints(Ready::ok(json!({}))), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("text/plain; version=0.0.4"));
    }

    #[tokio::test]
    async fn served_alone_on_their_own_address() {
        let server = endpoints(Ready::ok(json!({"blind": false})))
            .serve(SocketAddr::from(([127, 0, 0, 1], 0)))
            .unwrap();
        assert_ne!(server.addr().port(), 0);
        let mut conn = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        conn.write_all(b"GET /readyz HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.ends_with(r#"{"blind":false}"#), "{response}");
        let addr = server.addr();
        server.stop().await;
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "still listening after stop"
        );
    }
}
