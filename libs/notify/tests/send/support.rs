//! Small real servers on 127.0.0.1 that record what they receive: an SMTP server and an
//! HTTP receiver. They speak just enough of each protocol for lettre and reqwest.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use lifeline_notify::{Message, MessageKind, Notifier, NotifySettings};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

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

pub fn message(kind: MessageKind) -> Message {
    Message {
        notification_id: Uuid::new_v4(),
        kind,
        team_id: Uuid::new_v4(),
        team_name: "Acme".into(),
        heartbeat_id: Uuid::new_v4(),
        heartbeat_name: "nightly-backup".into(),
        status: "down".into(),
        incident_id: Some(Uuid::new_v4()),
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
// HTTP

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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
    /// Waits this long before answering 200.
    Slow(Duration),
}

pub struct HttpServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl HttpServer {
    pub async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let store = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                let reply = reply.clone();
                tokio::spawn(async move {
                    let _ = http_exchange(stream, reply, store).await;
                });
            }
        });
        Self { addr, requests }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// One request, one answer, then the connection closes.
async fn http_exchange(
    stream: TcpStream,
    reply: Reply,
    store: Arc<Mutex<Vec<Request>>>,
) -> std::io::Result<()> {
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
    store.lock().unwrap().push(Request {
        method,
        path,
        headers,
        body,
    });

    let (status, extra, body) = match reply {
        Reply::Status(status, body) => (status, String::new(), body),
        Reply::Redirect(status, location) => (status, format!("Location: {location}\r\n"), ""),
        Reply::Slow(delay) => {
            tokio::time::sleep(delay).await;
            (200, String::new(), "")
        }
    };
    let response = format!(
        "HTTP/1.1 {status} Whatever\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    write.write_all(response.as_bytes()).await?;
    write.shutdown().await
}
