//! The stylesheet, script and icon, compiled into the binary so the dashboard works offline and
//! from any working directory.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::routes::Routes;

const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");
const ICON: &str = include_str!("../static/favicon.svg");

pub fn routes(r: &mut Routes<'_>) {
    r.get("/", home)
        .get("/static/app.css", css)
        .get("/static/app.js", js)
        .get("/static/favicon.svg", icon);
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}

async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}

async fn icon() -> HttpResponse {
    asset("image/svg+xml", ICON)
}

/// The dashboard's front door is the heartbeat list (which sends strangers to log in).
async fn home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/heartbeats"))
        .finish()
}
