//! `Server-Timing: app;dur=<ms>` on every response: how long the server spent on the request
//! (session, queries, template), shown by browsers' developer tools and read by
//! `scripts/bench/web`, which compares it with the time of the bare queries.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let mut res = next.call(req).await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        res.headers_mut()
            .insert(HeaderName::from_static("server-timing"), value);
    }
    Ok(res)
}
