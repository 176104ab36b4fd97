//! A fake Stripe on 127.0.0.1 for the billing tests. It implements what Lifeline calls — `POST
//! /v1/checkout/sessions` and `POST /v1/billing_portal/sessions`, answered with the fields
//! Stripe's answers carry — and records every call. The session URLs it hands out lead to
//! pages of its own: a checkout page whose "Pay" link returns to the success URL (as Stripe
//! does after a payment) and whose "Cancel" link to the cancel URL, and a portal page. Events
//! are not sent by it: tests sign them with Stripe's scheme ([`sign`]) and post them, so a test
//! decides their order, their age and their repetition.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::{Response, StatusCode};
use sha2::Sha256;
use tokio::net::TcpListener;

pub const SECRET_KEY: &str = "sk_test_lifeline_fake";
pub const WEBHOOK_SECRET: &str = "whsec_test_lifeline_fake";
pub const PRICE_STANDARD: &str = "price_test_standard";
pub const PRICE_PREMIUM: &str = "price_test_premium";

/// `Stripe-Signature` for `payload` signed at `t` (Unix seconds) with `secret`: `t=…,v1=…`,
/// the hex HMAC-SHA256 of `t.payload` — Stripe's scheme, written here independently of the
/// crate that checks it.
pub fn sign(payload: &str, secret: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{payload}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// One API call received.
#[derive(Clone, Debug)]
pub struct StripeCall {
    /// `/v1/checkout/sessions`…
    pub path: String,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The form fields, decoded (`line_items[0][price]`…).
    pub form: Vec<(String, String)>,
}

impl StripeCall {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A session handed out, for its page.
#[derive(Clone, Debug)]
struct Session {
    id: String,
    /// Checkout: the success and cancel URLs. Portal: the return URL twice.
    done_url: String,
    cancel_url: String,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<StripeCall>>>,
    sessions: Arc<Mutex<Vec<Session>>>,
    /// The next API call is refused with this status and message.
    refuse_next: Arc<Mutex<Option<(u16, String)>>>,
}

impl FakeStripe {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stripe = Self {
            addr: listener.local_addr().unwrap(),
            calls: Arc::default(),
            sessions: Arc::default(),
            refuse_next: Arc::default(),
        };
        let this = stripe.clone();
        crate::http::serve_connections(listener, move |request| {
            let this = this.clone();
            async move { this.answer(request).await }
        });
        stripe
    }

    /// `LIFELINE_STRIPE_API_BASE` for this server.
    pub fn api_base(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Billing's Stripe settings for this server.
    #[cfg(feature = "app")]
    pub fn settings(&self) -> lifeline_billing::StripeSettings {
        lifeline_billing::StripeSettings {
            secret_key: SECRET_KEY.into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            price_standard: PRICE_STANDARD.into(),
            price_premium: PRICE_PREMIUM.into(),
            api_base: self.api_base(),
        }
    }

    /// Every API call so far, oldest first.
    pub fn calls(&self) -> Vec<StripeCall> {
        self.calls.lock().unwrap().clone()
    }

    /// Refuses the next API call as Stripe refuses a bad request.
    pub fn refuse_next(&self, status: u16, message: &str) {
        *self.refuse_next.lock().unwrap() = Some((status, message.to_owned()));
    }

    async fn answer(&self, request: hyper::Request<Incoming>) -> Response<Full<Bytes>> {
        let (head, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        let path = head.uri.path().to_owned();
        if head.method == hyper::Method::GET {
            return self.page(&path);
        }
        let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
        let call = StripeCall {
            path: path.clone(),
            authorization: head
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            form,
        };
        self.calls.lock().unwrap().push(call.clone());
        if let Some((status, message)) = self.refuse_next.lock().unwrap().take() {
            let body = serde_json::json!({
                "error": {"type": "invalid_request_error", "message": message}
            });
            return json(status, &body.to_string());
        }
        let n = self.sessions.lock().unwrap().len() + 1;
        let base = format!("http://{}", self.addr);
        match path.as_str() {
            "/v1/checkout/sessions" => {
                let id = format!("cs_test_{n}");
                let url = format!("{base}/checkout/{id}");
                self.sessions.lock().unwrap().push(Session {
                    id: id.clone(),
                    done_url: call.field("success_url").unwrap_or_default().to_owned(),
                    cancel_url: call.field("cancel_url").unwrap_or_default().to_owned(),
                });
                json(
                    200,
                    &format!(
                        r#"{{"id":"{id}","object":"checkout.session","automatic_tax":{{"enabled":false}},"created":1700000000,"custom_fields":[],"custom_text":{{}},"expires_at":1700086400,"livemode":false,"mode":"subscription","payment_method_types":["card"],"payment_status":"unpaid","shipping_options":[],"url":"{url}"}}"#
                    ),
                )
            }
            "/v1/billing_portal/sessions" => {
                let id = format!("bps_test_{n}");
                let url = format!("{base}/portal/{id}");
                let back = call.field("return_url").unwrap_or_default().to_owned();
                self.sessions.lock().unwrap().push(Session {
                    id: id.clone(),
                    done_url: back.clone(),
                    cancel_url: back,
                });
                let customer = call.field("customer").unwrap_or_default();
                json(
                    200,
                    &format!(
                        r#"{{"id":"{id}","object":"billing_portal.session","configuration":"bpc_test_1","created":1700000000,"customer":"{customer}","livemode":false,"url":"{url}"}}"#
                    ),
                )
            }
            _ => json(
                404,
                r#"{"error":{"type":"invalid_request_error","message":"Unrecognized request URL"}}"#,
            ),
        }
    }

    /// The pages a browser is sent to: `/checkout/{id}` and `/portal/{id}`.
    fn page(&self, path: &str) -> Response<Full<Bytes>> {
        let id = path.rsplit('/').next().unwrap_or_default();
        let session = self
            .sessions
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.id == id)
            .cloned();
        let Some(session) = session else {
            return html(404, "<h1>No such session</h1>");
        };
        let done = session
            .done_url
            .replace("{CHECKOUT_SESSION_ID}", &session.id);
        let body = if path.starts_with("/checkout/") {
            format!(
                r#"<!doctype html><title>Fake Checkout</title><h1>Fake Stripe Checkout</h1><p data-session="{id}">Pay for the subscription.</p><a id="pay" href="{done}">Pay</a> <a id="cancel" href="{cancel}">Cancel</a>"#,
                id = session.id,
                cancel = session.cancel_url
            )
        } else {
            format!(
                r#"<!doctype html><title>Fake portal</title><h1>Fake Stripe customer portal</h1><p data-session="{id}">Manage the subscription.</p><a id="return" href="{done}">Return</a>"#,
                id = session.id
            )
        };
        html(200, &body)
    }
}

fn json(status: u16, body: &str) -> Response<Full<Bytes>> {
    respond(status, "application/json", body)
}

fn html(status: u16, body: &str) -> Response<Full<Bytes>> {
    respond(status, "text/html; charset=utf-8", body)
}

fn respond(status: u16, kind: &str, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(CONTENT_TYPE, kind)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}
