//! A webhook (and Slack) receiver on 127.0.0.1 that answers from a script and records every
//! request with the time it arrived.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    Status(u16),
    /// Holds the request open for this long, then answers 200 (if anyone is still there).
    Hang(Duration),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub at: DateTime<Utc>,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    /// The status it was answered with (after any hang).
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<Vec<Step>>>,
    seen: Arc<Mutex<Vec<Received>>>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    /// Answers 200 to everything.
    pub async fn ok() -> Receiver {
        Self::scripted(Vec::new()).await
    }

    /// Answers the first requests with `script`, then 200.
    pub async fn scripted(script: Vec<Step>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver {
            url,
            script: Arc::new(Mutex::new(script.into_iter().rev().collect())),
            seen: Arc::default(),
            waiting: Arc::default(),
        };
        let this = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let this = this.clone();
                tokio::spawn(async move {
                    let _ = this.exchange(stream).await;
                });
            }
        });
        receiver
    }

    /// Requests answered with a 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Requests being held open right now.
    pub fn in_flight(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn all(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `n` deliveries arrived (or `limit` passed) and returns them.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let until = tokio::time::Instant::now() + limit;
        while self.delivered().len() < n && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.delivered()
    }

    async fn exchange(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
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
        let at = Utc::now();
        let step = self
            .script
            .lock()
            .unwrap()
            .pop()
            .unwrap_or(Step::Status(200));
        let status = match step {
            Step::Status(s) => s,
            Step::Hang(d) => {
                use std::sync::atomic::Ordering;
                self.waiting.fetch_add(1, Ordering::SeqCst);
                // Notice when the sender goes away (its socket closes) while we hold it.
                let mut probe = [0u8; 1];
                let gone = matches!(
                    tokio::time::timeout(d, reader.read(&mut probe)).await,
                    Ok(Ok(0) | Err(_))
                );
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                if gone {
                    self.seen.lock().unwrap().push(Received {
                        at,
                        path,
                        headers,
                        body: serde_json::from_slice(&body).unwrap_or_default(),
                        answered: 0,
                    });
                    return Ok(());
                }
                200
            }
        };
        let response = format!(
            "HTTP/1.1 {status} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        );
        let sent = write.write_all(response.as_bytes()).await;
        self.seen.lock().unwrap().push(Received {
            at,
            path,
            headers,
            body: serde_json::from_slice(&body).unwrap_or_default(),
            // A hung request whose sender went away was never answered.
            answered: if sent.is_ok() { status } else { 0 },
        });
        sent
    }
}
