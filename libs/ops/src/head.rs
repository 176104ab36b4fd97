//! No answer to `HEAD` carries a body. actix-http decides whether to write a body from the
//! method of the request it decoded *last*, so with pipelined requests (several written in one
//! send) the answer to a `HEAD` could carry the body its handler made, and the client would
//! read that body as the start of the next answer. This middleware drops the body of every
//! answer to a `HEAD` before it reaches the encoder, whatever the encoder believes.

use actix_web::Error;
use actix_web::body::{self, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// `App::wrap(from_fn(lifeline_ops::no_body_for_head))`. Other answers pass through as they
/// are (no boxing on the ping path).
pub async fn no_body_for_head<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, body::None>>, Error> {
    let head = req.method() == Method::HEAD;
    let res = next.call(req).await?;
    Ok(if head {
        // `None`, not an empty body: no `Content-Length: 0` claiming what a GET would get.
        res.map_body(|_, _| EitherBody::right(body::None::new()))
    } else {
        res.map_into_left_body()
    })
}
