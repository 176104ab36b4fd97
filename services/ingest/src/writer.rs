//! Group commit: pings wait in a queue while a commit is in flight, and the next commit takes all
//! of them at once. At low load each ping is its own small transaction (lowest latency); under
//! load batches grow by themselves, so Postgres sees a few transactions per millisecond at most.
//! Several writers (`LIFELINE_INGEST_WRITERS`) overlap their round trips. Each writer keeps its
//! own connection (no pool checkout and liveness query per batch) and drops it after any error
//! or timeout, since its state is then unknown; the next batch connects afresh.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use lifeline_store::pings::{self, BatchError, InDoubt, NewPing, Recorded};
use lifeline_store::{StoreError, StoreSettings};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use crate::IngestSettings;

struct Job {
    ping: NewPing,
    reply: oneshot::Sender<Result<Recorded, WriteError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("ping storage unavailable: {0}")]
    Unavailable(String),
    #[error("ping not stored: {0}")]
    Failed(String),
}

pub struct PingWriter {
    queue: mpsc::Sender<Job>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl PingWriter {
    pub fn start(store: &StoreSettings, settings: &IngestSettings) -> Arc<Self> {
        let (queue, rx) = mpsc::channel(settings.max_batch * settings.writers * 4);
        let (stop, _) = watch::channel(false);
        let rx = Arc::new(Mutex::new(rx));
        let tasks = (0..settings.writers)
            .map(|_| {
                let writer = Writer {
                    url: store.database_url.clone(),
                    connect_timeout: store.pg_timeout,
                    commit_timeout: settings.commit_timeout,
                    conn: None,
                };
                tokio::spawn(commit_loop(
                    rx.clone(),
                    stop.subscribe(),
                    writer,
                    settings.max_batch,
                ))
            })
            .collect();
        Arc::new(Self {
            queue,
            stop,
            tasks: Mutex::new(tasks),
        })
    }

    /// Resolves once the ping is committed (or known not to be).
    pub async fn write(&self, ping: NewPing) -> Result<Recorded, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { ping, reply })
            .await
            .map_err(|_| WriteError::Unavailable("shutting down".into()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(WriteError::Unavailable("writer stopped".into())))
    }

    /// Commits what is queued, then stops the writers.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        for task in self.tasks.lock().await.drain(..) {
            let _ = task.await;
        }
    }
}

/// One writer's connection and limits.
struct Writer {
    url: String,
    connect_timeout: Duration,
    commit_timeout: Duration,
    conn: Option<AsyncPgConnection>,
}

async fn commit_loop(
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    mut stop: watch::Receiver<bool>,
    mut writer: Writer,
    max_batch: usize,
) {
    loop {
        let batch = {
            let mut rx = queue.lock().await;
            let first = tokio::select! {
                biased;
                job = rx.recv() => job,
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    // No new pings can arrive; commit what is queued.
                    rx.close();
                    rx.recv().await
                }
            };
            let Some(first) = first else { break };
            let mut batch = Vec::with_capacity(64);
            batch.push(first);
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        commit(&mut writer, batch).await;
    }
}

async fn commit(writer: &mut Writer, batch: Vec<Job>) {
    let (pings, replies): (Vec<NewPing>, Vec<_>) =
        batch.into_iter().map(|j| (j.ping, j.reply)).unzip();
    metrics::histogram!("lifeline_ingest_batch_size").record(pings.len() as f64);
    let started = Instant::now();
    let result = writer.store(&pings).await;
    metrics::histogram!("lifeline_ingest_commit_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        // A ping Postgres refuses (not an outage) must not take its batch-mates down with it:
        // retry each on its own so only the bad one fails.
        Err(WriteError::Failed(reason)) if pings.len() > 1 => {
            tracing::warn!(%reason, size = pings.len(), "batch refused; committing pings one by one");
            for (ping, reply) in pings.into_iter().zip(replies) {
                let outcome = writer
                    .store(std::slice::from_ref(&ping))
                    .await
                    .map(|o| o.first().copied().unwrap_or(Recorded::HeartbeatGone));
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, size = pings.len(), "batch not committed");
            for reply in replies {
                let _ = reply.send(Err(match &e {
                    WriteError::Unavailable(m) => WriteError::Unavailable(m.clone()),
                    WriteError::Failed(m) => WriteError::Failed(m.clone()),
                }));
            }
        }
    }
}

impl Writer {
    async fn store(&mut self, pings: &[NewPing]) -> Result<Vec<Recorded>, WriteError> {
        let Writer {
            url,
            connect_timeout,
            commit_timeout,
            conn: slot,
        } = self;
        let attempt = async {
            let conn = match &mut *slot {
                Some(conn) => conn,
                slot => {
                    let connect = AsyncPgConnection::establish(url);
                    let conn = tokio::time::timeout(*connect_timeout, connect)
                        .await
                        .map_err(|_| StoreError::Unavailable("connecting timed out".into()))?
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    slot.insert(conn)
                }
            };
            pings::record_batch(conn, pings).await
        };
        let result = match tokio::time::timeout(*commit_timeout, attempt).await {
            Ok(Ok(outcomes)) => return Ok(outcomes),
            Ok(Err(BatchError { error, in_doubt })) => {
                // After any error the connection's state is unknown: start afresh next time.
                *slot = None;
                match in_doubt {
                    Some(doubt) => settle(url, *connect_timeout, doubt).await.ok_or(error),
                    None => Err(error),
                }
            }
            Err(_) => {
                *slot = None;
                return Err(WriteError::Unavailable(format!(
                    "commit took longer than {} ms",
                    commit_timeout.as_millis()
                )));
            }
        };
        match result {
            Ok(outcomes) => Ok(outcomes),
            Err(StoreError::Unavailable(m)) => Err(WriteError::Unavailable(m)),
            Err(e) => Err(WriteError::Failed(e.to_string())),
        }
    }
}

/// The connection died while committing: ask Postgres, on a new connection, whether the batch
/// committed, so that a stored ping is acknowledged and an unstored one is not. `None` if that
/// cannot be known now (Postgres unreachable): the pings are answered 503 and may turn out
/// stored, the only way a refused ping can be in the table.
async fn settle(url: &str, connect_timeout: Duration, doubt: InDoubt) -> Option<Vec<Recorded>> {
    for _ in 0..3 {
        let connect = AsyncPgConnection::establish(url);
        if let Ok(Ok(mut conn)) = tokio::time::timeout(connect_timeout, connect).await {
            match pings::commit_status(&mut conn, doubt.txid).await {
                Ok(Some(true)) => return Some(doubt.outcome),
                Ok(Some(false)) => return None,
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::warn!(
        txid = doubt.txid,
        "commit outcome unknown; its pings are answered 503"
    );
    None
}
