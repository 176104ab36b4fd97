//! A real HTTP server on 127.0.0.1 that records every request (the webhook and Slack receiver
//! of the tests) and answers as the test scripts it: a status, a redirect, or a reply held back
//! that notices the sender going away.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::wait::wait_for;

#[derive(Debug, Clone)]
pub struct Request {
    /// When it arrived (its body read).
    pub at: DateTime<Utc>,
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status it was answered with; `None` while held, or when the sender went away first.
    pub answered: Option<u16>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16, &'static str),
    Redirect(u16, String),
    /// Holds the request this long before answering 200 — unless the sender goes away first,
    /// which leaves the request unanswered.
    Slow(Duration),
}

#[derive(Clone)]
pub struct HttpServer {
    pub addr: SocketAddr,
    /// Answers for the next requests, in order; then `then`.
    script: Arc<Mutex<VecDeque<Reply>>>,
    then: Reply,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl HttpServer {
    /// Answers every request with `reply`.
    pub async fn start(reply: Reply) -> Self {
        Self::serve(Vec::new(), reply).await
    }

    /// Answers 200 to everything.
    pub async fn ok() -> Self {
        Self::start(Reply::Status(200, "ok")).await
    }

    /// Answers the first requests with `script`, then 200.
    pub async fn scripted(script: Vec<Reply>) -> Self {
        Self::serve(script, Reply::Status(200, "ok")).await
    }

    async fn serve(script: Vec<Reply>, then: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Self {
            addr: listener.local_addr().unwrap(),
            script: Arc::new(Mutex::new(script.into())),
            then,
            requests: Arc::default(),
        };
        let this = server.clone();
        // hyper drops a held answer when the connection closes under it: that is how a sender
        // going away leaves its request unanswered.
        serve_connections(listener, move |request| {
            let this = this.clone();
            async move { this.exchange(request).await }
        });
        server
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request received, answered or not.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests answered with a 2xx.
    pub fn delivered(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.answered.is_some_and(|s| (200..300).contains(&s)))
            .collect()
    }

    /// Requests not answered: held right now, or abandoned by their sender while held.
    pub fn unanswered(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.answered.is_none())
            .count()
    }

    /// Waits until `n` deliveries arrived (or `limit` passed) and returns them.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Request> {
        wait_for(limit, async || self.delivered(), |d| d.len() >= n).await
    }

    /// Waits until `n` requests arrived, answered or not (or `limit` passed); returns them.
    pub async fn wait_for_requests(&self, n: usize, limit: Duration) -> Vec<Request> {
        wait_for(limit, async || self.requests(), |r| r.len() >= n).await
    }

    async fn exchange(&self, request: hyper::Request<Incoming>) -> Response<Full<Bytes>> {
        let (head, body) = request.into_parts();
        let Ok(body) = body.collect().await.map(|b| b.to_bytes().to_vec()) else {
            // The body never fully arrived (the sender went away): not a request received.
            let mut answer = Response::new(Full::new(Bytes::new()));
            *answer.status_mut() = StatusCode::BAD_REQUEST;
            return answer;
        };
        let index = {
            let mut requests = self.requests.lock().unwrap();
            requests.push(Request {
                at: Utc::now(),
                method: head.method.to_string(),
                path: head
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                headers: head
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        (n.as_str().to_owned(), value)
                    })
                    .collect(),
                body,
                answered: None,
            });
            requests.len() - 1
        };
        let reply = self.script.lock().unwrap().pop_front();
        let mut response = Response::builder().header(CONTENT_TYPE, "text/plain");
        let (status, body) = match reply.unwrap_or_else(|| self.then.clone()) {
            Reply::Status(status, body) => (status, body),
            Reply::Redirect(status, location) => {
                response = response.header(LOCATION, location);
                (status, "")
            }
            Reply::Slow(delay) => {
                // When the sender goes away, hyper drops this future here: never answered.
                tokio::time::sleep(delay).await;
                (200, "")
            }
        };
        self.requests.lock().unwrap()[index].answered = Some(status);
        response
            .status(StatusCode::from_u16(status).unwrap())
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    }
}

/// Answers every connection accepted on `listener` with `answer`, for as long as the test runs.
pub(crate) fn serve_connections<F, Fut>(listener: TcpListener, answer: F)
where
    F: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let answer = answer.clone();
                    async move { Ok::<_, Infallible>(answer(request).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sender_going_away_leaves_a_held_request_unanswered() {
        let server = HttpServer::start(Reply::Slow(Duration::from_millis(600))).await;
        let impatient = reqwest::Client::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        assert!(impatient.get(server.url("/held")).send().await.is_err());
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(server.requests().len(), 1);
        assert_eq!(server.unanswered(), 1, "abandoned, so never answered");
        assert!(server.delivered().is_empty());
    }

    #[tokio::test]
    async fn scripted_replies_come_first_then_the_default() {
        let server = HttpServer::scripted(vec![
            Reply::Status(503, "busy"),
            Reply::Redirect(302, "http://elsewhere.test/".into()),
        ])
        .await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let first = http.post(server.url("/a?x=1")).body("one").send().await;
        assert_eq!(first.unwrap().status(), 503);
        let second = http.get(server.url("/b")).send().await.unwrap();
        assert_eq!(second.status(), 302);
        assert_eq!(second.headers()["location"], "http://elsewhere.test/");
        let third = http.get(server.url("/c")).send().await.unwrap();
        assert_eq!(third.status(), 200);
        let seen = server.requests();
        assert_eq!(seen[0].path, "/a?x=1");
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].body, b"one");
        assert!(seen[0].at <= seen[1].at && seen[1].at <= seen[2].at);
        assert_eq!(server.delivered().len(), 1);
    }
}
