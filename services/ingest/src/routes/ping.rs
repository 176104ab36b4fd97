//! The ping handler: resolve the token (within the client's unknown-token limit), check the
//! heartbeat's rate limit, read the body (only its size is kept, plus the first kilobyte of
//! progress, failure and exit-code pings), and answer once the ping is committed.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use lifeline_domain::{DETAIL_BYTES, PingKind, PingToken, Signal};
use lifeline_store::pings::{NewPing, Received, Recorded};
use lifeline_store::tokens::TokenTarget;

use crate::error::{PingError, TEXT_PLAIN};
use crate::settings::MAX_BODY_BYTES;
use crate::state::AppState;
use crate::writer::WriteError;

const USER_AGENT_CHARS: usize = 512;

pub async fn plain(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PingError> {
    let method = ping_method(&req)?;
    record(req, body, state, method, Signal::SUCCESS).await
}

pub async fn with_signal(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PingError> {
    let method = ping_method(&req)?;
    let segment = req.match_info().get("signal").unwrap_or_default();
    let signal = Signal::parse(segment).map_err(|e| PingError::UnknownSignal(e.to_string()))?;
    record(req, body, state, method, signal).await
}

async fn record(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    method: &'static str,
    signal: Signal,
) -> Result<HttpResponse, PingError> {
    let arrived = Instant::now();
    let hash = PingToken::parse(req.match_info().get("token").unwrap_or_default())
        .map_err(|_| PingError::UnknownHeartbeat)?
        .lookup_hash();
    if declared_length(&req).is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(PingError::TooLarge);
    }
    let client = client_addr(&req, &state);
    let target = resolve(&state, &hash, client).await?;
    state
        .limiter
        .check(target.heartbeat)
        .map_err(PingError::RateLimited)?;
    let keep = if keeps_detail(signal) {
        DETAIL_BYTES
    } else {
        0
    };
    let (body_size, head) = read_body(body, keep).await?;

    let ping = NewPing {
        heartbeat: target.heartbeat,
        team: target.team,
        received: Received::Arrived(arrived),
        kind: signal.kind,
        exit_code: signal.exit_code,
        method,
        remote_addr: client.map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .map(|v| clean_text(&String::from_utf8_lossy(v.as_bytes()), USER_AGENT_CHARS)),
        body_size: i64::try_from(body_size).unwrap_or(i64::MAX),
        detail: (keep > 0).then(|| clean_text(&String::from_utf8_lossy(&head), DETAIL_BYTES)),
    };
    match state.writer.write(ping).await {
        Ok(Recorded::Stored) => {
            state.stored.increment(1);
            Ok(HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, TEXT_PLAIN))
                .body("OK"))
        }
        Ok(Recorded::HeartbeatGone) => Err(PingError::UnknownHeartbeat),
        Err(WriteError::Unavailable(m) | WriteError::Failed(m)) => Err(PingError::Unavailable(m)),
    }
}

/// The token's heartbeat: from this process's caches if it can; otherwise, unless the client
/// has had its share of unknown tokens, from Redis or Postgres.
async fn resolve(
    state: &AppState,
    hash: &[u8; 32],
    client: Option<IpAddr>,
) -> Result<TokenTarget, PingError> {
    if let Some(remembered) = state.tokens.remembered(hash) {
        return remembered.ok_or(PingError::UnknownHeartbeat);
    }
    if let Some(addr) = client {
        state
            .unknown_tokens
            .admit(addr)
            .map_err(PingError::TooManyUnknown)?;
    }
    // The slow paths are boxed: their futures (Redis, the pool, Postgres) are large, and
    // inline they would make every ping's future too large for the allocator's fast path.
    let found = Box::pin(state.tokens.look_up(hash))
        .await
        .map_err(|e| PingError::Unavailable(e.to_string()))?;
    if found.is_none()
        && let Some(addr) = client
    {
        Box::pin(state.unknown_tokens.count(addr)).await;
    }
    found.ok_or(PingError::UnknownHeartbeat)
}

/// Which pings keep [`DETAIL_BYTES`] of their body as their detail. Progress pings say where a
/// run is; failures and exit codes how it ended, and `lifeline run` sends the end of the job's
/// output with them (with `/0` too: what a job printed matters when it succeeds). Plain success
/// and start pings keep no detail.
fn keeps_detail(signal: Signal) -> bool {
    matches!(signal.kind, PingKind::Progress | PingKind::Fail) || signal.exit_code.is_some()
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Streams the body through, counting its bytes and keeping the first `keep` of them; never
/// holds more in memory than one chunk plus `keep`.
async fn read_body(mut body: web::Payload, keep: usize) -> Result<(u64, Vec<u8>), PingError> {
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(keep);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| PingError::BadBody(e.to_string()))?;
        size += chunk.len() as u64;
        if size > MAX_BODY_BYTES {
            return Err(PingError::TooLarge);
        }
        if head.len() < keep {
            let take = (keep - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
    }
    Ok((size, head))
}

/// The methods a ping may use: as stored, as CORS allows them and as a 405's `Allow` names them.
pub(crate) const PING_METHODS: [&str; 3] = ["GET", "POST", "HEAD"];

/// The ping's method as stored; any other method is refused before anything else is read.
fn ping_method(req: &HttpRequest) -> Result<&'static str, PingError> {
    let method = req.method().as_str();
    PING_METHODS
        .into_iter()
        .find(|m| *m == method)
        .ok_or(PingError::MethodNotAllowed)
}

/// The client's address: the peer, unless a trusted proxy header is configured and carries a
/// valid address (for a list such as `X-Forwarded-For`, the entry our proxy appended: the last).
fn client_addr(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    let from_header = state
        .settings
        .trusted_proxy_header
        .as_ref()
        .and_then(|name| req.headers().get(name))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    from_header.or_else(|| req.peer_addr().map(|a| a.ip()))
}

/// Text that Postgres accepts (no NUL) and that fits its column, cut on a character boundary.
fn clean_text(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes));
    for c in text.chars().filter(|c| *c != '\0') {
        if out.len() + c.len_utf8() > max_bytes {
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_drops_nul_and_cuts_on_char_boundaries() {
        assert_eq!(clean_text("a\0b", 10), "ab");
        assert_eq!(clean_text("ééé", 5), "éé");
        assert_eq!(clean_text("abc", 0), "");
    }

    #[test]
    fn progress_failures_and_exit_codes_keep_detail() {
        let keeps = |segment: &str| keeps_detail(Signal::parse(segment).unwrap());
        assert!(keeps("progress"));
        assert!(keeps("fail"));
        assert!(keeps("0"));
        assert!(keeps("3"));
        assert!(!keeps("start"));
        assert!(!keeps_detail(Signal::SUCCESS));
    }
}
