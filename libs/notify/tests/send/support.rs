//! Small real servers on 127.0.0.1 that record what they receive: an SMTP server and an
//! HTTP receiver. They speak just enough of each protocol for lettre and reqwest. The
//! workspace's black-box tests use them too (`tests/support`), so not every item is used here.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use lifeline_domain::NotificationKind;
use lifeline_notify::{Delivered, Message, Notifier, NotifySettings, SendError, Target};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub const PUBLIC_URL: &str = "https://lifeline.test";

pub fn settings() -> NotifySettings {
    NotifySettings {
        smtp_url: None,
        smtp_from: "Lifeline <alerts@lifeline.local>".into(),
        allow_private_targets: true,
        timeout: Duration::from_secs(5),
        public_url: PUBLIC_URL.into(),
    }
}

pub fn notifier(settings: NotifySettings) -> Notifier {
    Notifier::new(settings).unwrap()
}

/// The secret of the webhook targets in these tests.
pub const SECRET: &str = "whsec_x";

pub fn webhook(url: &str) -> Target<'_> {
    Target::Webhook {
        url,
        secret: SECRET,
    }
}

pub fn email(to: &str) -> Target<'_> {
    Target::Email { to }
}

/// Sends an alert to `target` with a notifier made of `settings`.
pub async fn alert(settings: NotifySettings, target: Target<'_>) -> Result<Delivered, SendError> {
    notifier(settings)
        .send(target, &message(NotificationKind::Alert))
        .await
}

pub fn message(kind: NotificationKind) -> Message {
    Message {
        notification_id: lifeline_domain::NotificationId::new(),
        kind,
        team_id: lifeline_domain::TeamId::new(),
        team_name: "Acme".into(),
        heartbeat_id: Some(lifeline_domain::HeartbeatId::new()),
        heartbeat_name: "nightly-backup".into(),
        status: Some(lifeline_domain::Status::Down),
        incident_id: Some(lifeline_domain::IncidentId::new()),
        reason: "no ping for 1 h 10 min (interval 1 h + grace 10 min)".into(),
        since: Utc.with_ymd_and_hms(2024, 5, 1, 3, 10, 0).unwrap(),
        deadline: Some(Utc.with_ymd_and_hms(2024, 5, 1, 3, 10, 0).unwrap()),
        last_ping_at: Some(Utc.with_ymd_and_hms(2024, 5, 1, 2, 0, 0).unwrap()),
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP

#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section, dot-stuffing undone, lines joined with "\r\n".
    pub data: String,
}

impl Mail {
    /// The value of the first header `name` (unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }

    /// The body as sent, still in its transfer encoding.
    pub fn raw_body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }

    /// The body decoded (lettre picks 7bit or quoted-printable for ASCII text).
    pub fn body(&self) -> String {
        let raw = self.raw_body();
        match self.header("Content-Transfer-Encoding").as_deref() {
            Some("quoted-printable") => decode_quoted_printable(&raw),
            Some("7bit") | Some("8bit") | None => raw,
            Some(other) => panic!("unexpected transfer encoding {other}"),
        }
    }
}

/// RFC 2045 quoted-printable: `=\r\n` is a soft line break, `=XX` a byte.
fn decode_quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// Accepts everything.
    Accept,
    /// Answers RCPT TO with 550 (mailbox unavailable): a permanent failure.
    RejectRecipient,
    /// Answers RCPT TO with 451 (local error): a transient failure.
    DeferRecipient,
    /// Accepts the connection and never says anything.
    Silent,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    pub async fn start(mode: SmtpMode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = smtp_session(stream, mode, store).await;
                });
            }
        });
        Self { addr, mails }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

async fn smtp_session(
    stream: TcpStream,
    mode: SmtpMode,
    store: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    if mode == SmtpMode::Silent {
        tokio::time::sleep(Duration::from_secs(60)).await;
        return Ok(());
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 test.local ESMTP ready\r\n").await?;
    let mut mail = Mail::default();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test.local\r\n250 8BITMIME\r\n",
            "HELO" => b"250 test.local\r\n",
            "MAIL" => {
                mail = Mail {
                    mail_from: angle(command),
                    ..Mail::default()
                };
                b"250 OK\r\n"
            }
            "RCPT" => match mode {
                SmtpMode::RejectRecipient => b"550 5.1.1 mailbox unavailable\r\n",
                SmtpMode::DeferRecipient => b"451 4.3.0 try again later\r\n",
                _ => {
                    mail.rcpt_to.push(angle(command));
                    b"250 OK\r\n"
                }
            },
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data: Vec<String> = Vec::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    let l = line.trim_end_matches(['\r', '\n']);
                    if l == "." {
                        break;
                    }
                    data.push(l.strip_prefix('.').unwrap_or(l).to_owned());
                }
                mail.data = data.join("\r\n");
                store.lock().unwrap().push(std::mem::take(&mut mail));
                b"250 OK queued\r\n"
            }
            "RSET" => {
                mail = Mail::default();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// `MAIL FROM:<a@b> SIZE=12` → `a@b`.
fn angle(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(addr, _)| addr.to_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// HTTP (also used by the workspace's black-box tests, as the webhook and Slack receiver)

#[derive(Debug, Clone)]
pub struct Request {
    /// When it arrived.
    pub at: DateTime<Utc>,
    pub method: String,
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
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16, &'static str),
    Redirect(u16, String),
    /// Holds the request this long before answering 200 — unless the sender goes away first.
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
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let this = this.clone();
                tokio::spawn(async move {
                    let _ = this.exchange(stream).await;
                });
            }
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
        let until = tokio::time::Instant::now() + limit;
        while self.delivered().len() < n && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.delivered()
    }

    /// One request, one answer, then the connection closes.
    async fn exchange(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").to_owned();
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                break;
            }
            if let Some((n, v)) = l.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let index = {
            let mut requests = self.requests.lock().unwrap();
            requests.push(Request {
                at: Utc::now(),
                method,
                path,
                headers,
                body,
                answered: None,
            });
            requests.len() - 1
        };

        let reply = self.script.lock().unwrap().pop_front();
        let (status, extra, body) = match reply.unwrap_or_else(|| self.then.clone()) {
            Reply::Status(status, body) => (status, String::new(), body),
            Reply::Redirect(status, location) => (status, format!("Location: {location}\r\n"), ""),
            Reply::Slow(delay) => {
                // Notice the sender going away (its socket closes) while we hold it.
                let mut probe = [0u8; 1];
                let gone = matches!(
                    tokio::time::timeout(delay, reader.read(&mut probe)).await,
                    Ok(Ok(0) | Err(_))
                );
                if gone {
                    return Ok(());
                }
                (200, String::new(), "")
            }
        };
        let response = format!(
            "HTTP/1.1 {status} Whatever\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
            body.len()
        );
        write.write_all(response.as_bytes()).await?;
        self.requests.lock().unwrap()[index].answered = Some(status);
        write.shutdown().await
    }
}
