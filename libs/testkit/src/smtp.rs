//! A real SMTP server on 127.0.0.1 that records the mail it receives. It speaks just enough
//! SMTP for lettre; what it receives is read back with `mail-parser` (headers, decoded body).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mail_parser::{Message, MessageParser};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section as received, dot-stuffing undone, lines ending in CRLF.
    pub data: Vec<u8>,
}

impl Mail {
    /// The message, parsed.
    pub fn message(&self) -> Message<'_> {
        MessageParser::default()
            .parse(&self.data)
            .unwrap_or_else(|| panic!("unparseable mail: {}", String::from_utf8_lossy(&self.data)))
    }

    /// The value of header `name` as written (unfolded), `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = self.message();
        let raw = message.header_raw(name)?;
        Some(unfold(raw))
    }

    /// The subject, encoded words decoded.
    pub fn subject(&self) -> Option<String> {
        self.message().subject().map(str::to_owned)
    }

    /// The plain-text body, its transfer encoding undone.
    pub fn body(&self) -> String {
        self.message()
            .body_text(0)
            .map(|b| b.into_owned())
            .unwrap_or_default()
    }
}

fn unfold(raw: &str) -> String {
    raw.split("\r\n")
        .flat_map(|l| l.split('\n'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// Accepts everything.
    Accept,
    /// Answers RCPT TO with 550 (mailbox unavailable): a permanent failure.
    RejectRecipient,
    /// Answers RCPT TO with 451 (local error): a transient failure.
    DeferRecipient,
    /// Accepts the connection and never says anything, until the client goes away.
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
                    let _ = session(stream, mode, store).await;
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

async fn session(
    mut stream: TcpStream,
    mode: SmtpMode,
    store: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    if mode == SmtpMode::Silent {
        // Say nothing; read (and drop) whatever comes until the client hangs up.
        let mut sink = [0u8; 512];
        while stream.read(&mut sink).await? > 0 {}
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
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    let l = line.trim_end_matches(['\r', '\n']);
                    if l == "." {
                        break;
                    }
                    mail.data
                        .extend_from_slice(l.strip_prefix('.').unwrap_or(l).as_bytes());
                    mail.data.extend_from_slice(b"\r\n");
                }
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
