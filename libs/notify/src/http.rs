//! Webhook and Slack sends over HTTP, behind the private-address guard.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lifeline_domain::ChannelKind;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::redirect::Policy;

use crate::message::{Message, slack_text, webhook_body};
use crate::target::{ALLOW_PRIVATE, host_ip, is_public, parse_http_url, reaching};
use crate::{Delivered, SendError, SettingError, sign, timed_out};

pub(crate) const USER_AGENT: &str = "Lifeline-Webhooks/1";
/// How much of an error response's body is kept in the error message.
const ERROR_BODY_CHARS: usize = 200;
/// How much of a response body is read at most.
const MAX_BODY_BYTES: usize = 4096;

/// The HTTP client for tenant-controlled URLs: no redirects, no proxies (a proxy would resolve
/// the name on our behalf, past the guard), and unless private targets are allowed, a resolver
/// that refuses names resolving to any non-public address. The check happens where the
/// connection's addresses come from, so a name cannot pass a check and then rebind.
pub(crate) fn client(
    timeout: Duration,
    allow_private: bool,
) -> Result<reqwest::Client, SettingError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout);
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
    }
    builder
        .build()
        .map_err(|e| SettingError::new("LIFELINE_NOTIFY_TIMEOUT_MS", format!("HTTP client: {e}")))
}

/// Resolves with the system resolver and fails when any address is not public.
struct PublicOnlyResolver;

/// The guard's refusal; found again in the error chain to make the send error permanent.
#[derive(Debug, thiserror::Error)]
#[error("refused: {host} resolves to private address {ip}")]
struct Refused {
    host: String,
    ip: IpAddr,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            // Not logged here: the refusal ends the send, whose failure the scheduler logs
            // with this detail and the channel's kind.
            if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(
                    Box::new(Refused { host, ip: bad.ip() }) as Box<dyn StdError + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

pub(crate) enum Payload<'a> {
    Webhook { secret: &'a str },
    Slack,
}

impl Payload<'_> {
    fn kind(&self) -> ChannelKind {
        match self {
            Payload::Webhook { .. } => ChannelKind::Webhook,
            Payload::Slack => ChannelKind::Slack,
        }
    }
}

pub(crate) async fn send(
    client: &reqwest::Client,
    allow_private: bool,
    timeout: Duration,
    url: &str,
    payload: Payload<'_>,
    message: &Message,
    public_url: &str,
) -> Result<Delivered, SendError> {
    let parsed = parse_http_url(url.trim()).map_err(|e| SendError::permanent(e.to_string()))?;
    // IP literals never reach the resolver, so they are checked here.
    if !allow_private
        && let Some(ip) = host_ip(&parsed)
        && !is_public(ip)
    {
        return Err(SendError::permanent(NOT_PUBLIC).with_detail(refused_detail(
            &format!("refused: {ip} is a private address"),
            payload.kind(),
        )));
    }
    let kind = payload.kind();

    let request = match payload {
        Payload::Webhook { secret } => {
            let body = webhook_body(message, public_url, Utc::now()).to_string();
            let signature = sign(secret, body.as_bytes());
            client
                .post(parsed)
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header("Lifeline-Signature", signature)
                .header("Lifeline-Delivery", message.notification_id.to_string())
                .header("Lifeline-Event", crate::event(message))
                .body(body)
        }
        Payload::Slack => client
            .post(parsed)
            .json(&serde_json::json!({ "text": slack_text(message, public_url) })),
    };

    let mut response = request
        .send()
        .await
        .map_err(|e| request_error(&e, timeout, kind))?;
    let status = response.status();
    if status.is_success() {
        return Ok(Delivered {
            detail: format!("HTTP {}", status.as_u16()),
        });
    }
    if status.is_redirection() {
        return Err(SendError::retryable(format!(
            "HTTP {} redirect not followed",
            status.as_u16()
        )));
    }

    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() < MAX_BODY_BYTES => body.extend_from_slice(&chunk),
            // Enough to describe the error, or the body could not be read to the end: say
            // what we have.
            Ok(_) | Err(_) => break,
        }
    }
    let text: String = String::from_utf8_lossy(&body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_BODY_CHARS)
        .collect();
    let text = text.trim();
    let code = status.as_u16();
    // The team sees the status; what the receiver said stays in the operator's logs.
    let detail = (!text.is_empty()).then(|| format!("HTTP {code}: {text}"));
    // A 4xx says the request is wrong and will stay wrong, except "timeout" and "too many".
    let permanent = status.is_client_error() && code != 408 && code != 429;
    Err(SendError {
        message: format!("HTTP {code}"),
        detail,
        permanent,
    })
}

fn request_error(e: &reqwest::Error, timeout: Duration, kind: ChannelKind) -> SendError {
    if let Some(refused) = find_cause::<Refused>(e) {
        return SendError::permanent(NOT_PUBLIC)
            .with_detail(refused_detail(&refused.to_string(), kind));
    }
    if e.is_timeout() {
        return SendError::retryable(timed_out(timeout));
    }
    // reqwest's Display is terse ("error sending request for url (…)"); the innermost cause
    // says what went wrong ("Connection refused", "dns error: …").
    let mut cause: &dyn StdError = e;
    let mut parts = vec![];
    while let Some(next) = cause.source() {
        parts.push(next.to_string());
        cause = next;
    }
    let what = if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // The team learns the kind of failure; the cause ("Connection refused", "dns error: …")
    // would tell them about hosts and ports, so it goes to the operator's logs.
    let error = SendError::retryable(what);
    match parts.last() {
        Some(inner) => error.with_detail(format!("{what}: {inner}")),
        // The top-level message names the URL, which may hold a token: leave it out.
        None => error,
    }
}

/// What the team reads when a target resolves (or is written) to an address that is not public.
pub(crate) const NOT_PUBLIC: &str = "target refused: not a public address";

/// The operator's side of a refusal (the logs): which address, and the setting that allows it.
/// The team's summary stays [`NOT_PUBLIC`], which names no address.
fn refused_detail(refused: &str, kind: ChannelKind) -> String {
    format!(
        "{refused}; {} may only reach public addresses unless {ALLOW_PRIVATE} is set",
        reaching(kind)
    )
}

fn find_cause<'e, T: StdError + 'static>(e: &'e (dyn StdError + 'static)) -> Option<&'e T> {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(found) = c.downcast_ref::<T>() {
            return Some(found);
        }
        cause = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::str::FromStr;

    async fn resolve(host: &str) -> Result<Vec<SocketAddr>, String> {
        PublicOnlyResolver
            .resolve(Name::from_str(host).unwrap())
            .await
            .map(|addrs| addrs.collect())
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn resolver_passes_public_and_refuses_private() {
        // Address literals resolve without DNS, so this runs offline.
        assert_eq!(
            resolve("8.8.8.8").await.unwrap(),
            vec![SocketAddr::from(([8, 8, 8, 8], 0))]
        );
        assert_eq!(
            resolve("10.1.2.3").await.unwrap_err(),
            "refused: 10.1.2.3 resolves to private address 10.1.2.3"
        );
        let err = resolve("localhost").await.unwrap_err();
        assert!(
            err.starts_with("refused: localhost resolves to private address "),
            "{err}"
        );
    }
}
