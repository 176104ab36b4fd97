//! `lifeline run --url PING_URL -- COMMAND…`: the wrapper for crontab lines (what runitor and
//! `cronitor exec` are for other monitors). It pings `/start`, runs the command with its output
//! passed through as it comes, then pings `/{exit code}` with the output's last kilobyte as the
//! body, which ingest keeps as the ping's detail.
//!
//! It needs no settings, database or Redis: it runs on the job's machine, where there is only
//! the binary. Monitoring must never break the job, so a ping that fails is retried, then
//! reported on stderr, and the exit status is always the command's own, as a shell reports it.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::process::{ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lifeline_store::error::error_chain;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::Command;

use crate::cli::RunArgs;

/// The final ping carries this much of the end of the output: as much as ingest keeps.
pub const TAIL_BYTES: usize = lifeline_domain::DETAIL_BYTES;
/// Attempts per ping, and the wait before the first retry (doubled after each): about 3.5 s of
/// retries, enough to ride out an ingest restart without holding the crontab line for long.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// One attempt's limit: a ping API that hangs must not hold the job's line for ever.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the output may still take to drain once the command has exited. A background
/// process it left behind can hold the pipes open indefinitely; we stop reading then.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);
/// What shells answer for a command that cannot be run.
const CANNOT_RUN: u8 = 127;

/// `--url`: an absolute http(s) URL the signals can be appended to.
pub fn parse_ping_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("expected an http:// or https:// ping URL".to_owned());
    }
    // `/start` and `/{code}` are appended to the path; a query would end up before them.
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a ping URL has no query string or fragment".to_owned());
    }
    Ok(url)
}

/// Runs the wrapped command between its two pings; returns the command's exit status.
pub async fn run(args: &RunArgs) -> ExitCode {
    let pinger = Pinger::new(&args.url);
    // The start ping goes out while the command starts, so that a slow or unreachable ping API
    // does not delay the job.
    let start = tokio::spawn({
        let pinger = pinger.clone();
        async move { pinger.send("start", Vec::new()).await }
    });
    let tail = Tail::default();
    let outcome = supervise(&args.command, &tail).await;
    // The finish must reach ingest after the start, or the run would stay open.
    let _ = start.await;
    let (code, body) = match outcome {
        Ok(code) => (code, tail.body()),
        Err(message) => {
            eprintln!("lifeline run: {message}");
            (CANNOT_RUN, message.into_bytes())
        }
    };
    pinger.send(&code.to_string(), body).await;
    ExitCode::from(code)
}

/// Runs the command with its output passed through and kept in `tail`; its exit status as a
/// shell reports it, or why it could not be run.
async fn supervise(command: &[OsString], tail: &Tail) -> Result<u8, String> {
    let Some((program, args)) = command.split_first() else {
        return Err("no command to run".to_owned());
    };
    let name = program.to_string_lossy();
    // Ctrl-C in a terminal reaches the command too (same process group): it decides whether to
    // stop, and we stay to report how it ended.
    #[cfg(unix)]
    let _interrupts =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {name:?}: {e}"))?;
    let readers = [
        child
            .stdout
            .take()
            .map(|from| tokio::spawn(pass_through(from, tokio::io::stdout(), tail.clone()))),
        child
            .stderr
            .take()
            .map(|from| tokio::spawn(pass_through(from, tokio::io::stderr(), tail.clone()))),
    ];
    let status = child
        .wait()
        .await
        .map_err(|e| format!("lost track of {name:?}: {e}"))?;
    let drained = async {
        for reader in readers.into_iter().flatten() {
            let _ = reader.await;
        }
    };
    let _ = tokio::time::timeout(DRAIN_LIMIT, drained).await;
    Ok(shell_status(status))
}

/// Copies `from` to `to` chunk by chunk as it comes, keeping the end of it in `tail`.
async fn pass_through(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    tail: Tail,
) {
    let mut buf = vec![0u8; 8192];
    let mut passing = true;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // When our own output is closed (`lifeline run … | head`) the command must not block
        // on a full pipe: keep reading, stop writing.
        if passing {
            passing = to.write_all(&buf[..n]).await.is_ok() && to.flush().await.is_ok();
        }
        tail.push(&buf[..n]);
    }
}

/// 0–255 from an exit, 128 + the signal for a command killed by one.
fn shell_status(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code).unwrap_or(u8::MAX);
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return u8::try_from(128 + signal).unwrap_or(u8::MAX);
    }
    1
}

/// The last `TAIL_BYTES` of stdout and stderr together, in the order they were read.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<u8>>>);

impl Tail {
    fn push(&self, bytes: &[u8]) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.extend(&bytes[bytes.len().saturating_sub(TAIL_BYTES)..]);
        let excess = kept.len().saturating_sub(TAIL_BYTES);
        kept.drain(..excess);
    }

    fn body(&self) -> Vec<u8> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        from_char_boundary(kept.iter().copied().collect())
    }
}

/// Drops the UTF-8 continuation bytes a cut can leave at the start: ingest would turn each into
/// a 3-byte replacement character and then cut the detail's end, the part that matters most.
fn from_char_boundary(mut bytes: Vec<u8>) -> Vec<u8> {
    let partial = bytes
        .iter()
        .take(3)
        .take_while(|b| **b & 0b1100_0000 == 0b1000_0000)
        .count();
    bytes.drain(..partial);
    bytes
}

/// Sends the signals to the ping URL.
#[derive(Clone)]
struct Pinger {
    /// None when no HTTP client could be made (reported once, when made).
    client: Option<reqwest::Client>,
    base: String,
}

impl Pinger {
    fn new(url: &Url) -> Self {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .user_agent(concat!("lifeline-run/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| eprintln!("lifeline run: cannot ping: {}", error_chain(&e)))
            .ok();
        Pinger {
            client,
            base: url.as_str().trim_end_matches('/').to_owned(),
        }
    }

    /// POSTs `body` to `…/{signal}`, retrying network errors and 5xx; says on stderr when the
    /// ping could not be delivered. The URL is never printed: its token is a secret and cron
    /// mails stderr around.
    async fn send(&self, signal: &str, body: Vec<u8>) {
        let Some(client) = &self.client else { return };
        let url = format!("{}/{signal}", self.base);
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let sent = client
                .post(&url)
                .header(CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(body.clone())
                .send()
                .await;
            let failure = match sent {
                Ok(answer) if answer.status().is_success() => return,
                // Unknown token, unknown signal, rate limit: asking again will not help.
                Ok(answer) if answer.status().is_client_error() => {
                    let status = answer.status();
                    let text = answer.text().await.unwrap_or_default();
                    let why = text.lines().next().unwrap_or_default();
                    eprintln!("lifeline run: ping {signal:?} refused: {status} {why}");
                    return;
                }
                Ok(answer) => format!("answered {}", answer.status()),
                Err(e) => error_chain(&e.without_url()),
            };
            if attempt == ATTEMPTS {
                eprintln!(
                    "lifeline run: ping {signal:?} failed after {ATTEMPTS} attempts: {failure}"
                );
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_kilobyte_from_a_character_boundary() {
        let tail = Tail::default();
        tail.push(b"dropped");
        tail.push(&[b'a'; 1000]);
        tail.push("é".repeat(20).as_bytes());
        let body = tail.body();
        // 1024 bytes end with 20 two-byte characters; the first kept byte was an 'a'.
        assert_eq!(body.len(), 1024);
        assert!(body.ends_with("é".repeat(20).as_bytes()));

        tail.push(&[b'b'; 1023]);
        let body = tail.body();
        // The cut fell inside the last 'é': its orphan second byte is dropped.
        assert_eq!(body, vec![b'b'; 1023]);
    }

    #[test]
    fn ping_urls_must_be_http_without_query() {
        assert!(parse_ping_url("https://hb.example.com/api/v1/hb/abc").is_ok());
        assert!(parse_ping_url("ftp://hb.example.com/api/v1/hb/abc").is_err());
        assert!(parse_ping_url("https://hb.example.com/api/v1/hb/abc?x=1").is_err());
        assert!(parse_ping_url("hb.example.com/api/v1/hb/abc").is_err());
    }
}
