//! Group commit: pings wait in a queue while a commit is in flight, and the next commit takes all
//! of them at once. At low load each ping is its own small transaction (lowest latency); under
//! load batches grow by themselves, so Postgres sees a few transactions per millisecond at most.
//! Several writers (`LIFELINE_INGEST_WRITERS`) overlap their round trips.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline_store::pings::{self, NewPing, Recorded};
use lifeline_store::{PgPool, StoreError};
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
    pub fn start(pool: PgPool, settings: &IngestSettings) -> Arc<Self> {
        let (queue, rx) = mpsc::channel(settings.max_batch * settings.writers * 4);
        let (stop, _) = watch::channel(false);
        let rx = Arc::new(Mutex::new(rx));
        let tasks = (0..settings.writers)
            .map(|_| {
                tokio::spawn(commit_loop(
                    rx.clone(),
                    stop.subscribe(),
                    pool.clone(),
                    settings.max_batch,
                    settings.commit_timeout,
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

async fn commit_loop(
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    mut stop: watch::Receiver<bool>,
    pool: PgPool,
    max_batch: usize,
    timeout: Duration,
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
        commit(&pool, batch, timeout).await;
    }
}

async fn commit(pool: &PgPool, batch: Vec<Job>, timeout: Duration) {
    let (pings, replies): (Vec<NewPing>, Vec<_>) =
        batch.into_iter().map(|j| (j.ping, j.reply)).unzip();
    metrics::histogram!("lifeline_ingest_batch_size").record(pings.len() as f64);
    let started = Instant::now();
    let result = store(pool, &pings, timeout).await;
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
                let outcome = store(pool, std::slice::from_ref(&ping), timeout)
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

async fn store(
    pool: &PgPool,
    pings: &[NewPing],
    timeout: Duration,
) -> Result<Vec<Recorded>, WriteError> {
    let attempt = async {
        let mut conn = pool.get().await?;
        pings::record_batch(&mut conn, pings).await
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(outcomes)) => Ok(outcomes),
        Ok(Err(StoreError::Unavailable(m))) => Err(WriteError::Unavailable(m)),
        Ok(Err(e)) => Err(WriteError::Failed(e.to_string())),
        Err(_) => Err(WriteError::Unavailable(format!(
            "commit took longer than {} ms",
            timeout.as_millis()
        ))),
    }
}
