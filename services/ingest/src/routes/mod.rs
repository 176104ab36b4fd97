pub mod ops;
mod ping;

pub(crate) use ping::PING_METHODS;

use actix_cors::Cors;
use actix_web::web;

/// The ping API, plus `/healthz` (readiness and metrics are on the ops address).
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Browsers may ping from any page (a static site's "job done" beacon): answer CORS for all.
    let cors = || {
        Cors::default()
            .allow_any_origin()
            .send_wildcard()
            .allowed_methods(ping::PING_METHODS)
            .allow_any_header()
            .max_age(86_400)
    };
    // One route per resource, whatever the method: the handlers answer 405 themselves. Method
    // guards would record the methods they saw in every request's extensions (allocations that
    // live, cold, until the ping is committed), only to name them in a 405's `Allow`.
    cfg.service(
        web::resource("/api/v1/hb/{token}")
            .wrap(cors())
            .to(ping::plain),
    )
    .service(
        web::resource("/api/v1/hb/{token}/{signal}")
            .wrap(cors())
            .to(ping::with_signal),
    );
    lifeline_ops::configure_liveness(cfg);
}
