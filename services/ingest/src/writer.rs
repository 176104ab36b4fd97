//! Group commit: pings wait in a queue while a commit is in flight, and the next commit takes all
//! of them at once. At low load each ping is its own small transaction (lowest latency); under
//! load batches grow by themselves, so Postgres sees a few transactions per millisecond at most.
//! Several writers (`LIFELINE_INGEST_WRITERS`) take turns: a writer holds the queue until its
//! batch is written (staged), then commits while the next writer takes what piled up meanwhile,
//! so one writer's statements overlap another's COMMIT flush. Each writer keeps its
//! own connection (no pool checkout and liveness query per batch) and drops it after any error
//! or timeout, since its state is then unknown; the next batch connects afresh.
//!
//! Answers go back to the HTTP worker threads a batch at a time: each worker has one task that
//! takes its share of a committed batch and wakes the pings' handlers from there. Waking each
//! handler from the writer's thread instead would cost a system call per ping (a task woken
//! from outside its single-threaded runtime signals that runtime's event loop every time).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline_domain::FlapPolicy;
use lifeline_store::pings::{self, InDoubt, NewPing, Recorded, Staged};
use lifeline_store::{PgConn, RedisKeys, StoreError, StoreSettings, wake};
use redis::aio::ConnectionManager;
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use crate::IngestSettings;
use crate::models::Models;

struct Job {
    ping: NewPing,
    waiting: Waiting,
}

/// A ping waiting for its answer, and the worker thread it waits on.
struct Waiting {
    reply: Reply,
    on: Answers,
}

/// What a ping's handler is told: stored (or its heartbeat gone), or why not.
type Outcome = Result<Recorded, WriteError>;
type Reply = oneshot::Sender<Outcome>;
type Answer = (Reply, Outcome);

/// The answers of one batch for one worker thread's pings.
type Answers = mpsc::UnboundedSender<Vec<Answer>>;

thread_local! {
    /// This worker thread's answer queue, opened with its first ping.
    static ANSWERS: RefCell<Option<Answers>> = const { RefCell::new(None) };
}

/// The calling worker thread's answer queue. Its first ping starts the task that hands the
/// answers to their handlers, on this thread, where waking a task is a queue push; a queue
/// whose task has gone (its runtime stopped) is replaced.
fn answers_here() -> Answers {
    ANSWERS.with_borrow_mut(|slot| match slot {
        Some(queue) if !queue.is_closed() => queue.clone(),
        _ => {
            let (queue, mut answers) = mpsc::unbounded_channel::<Vec<Answer>>();
            actix_web::rt::spawn(async move {
                while let Some(batch) = answers.recv().await {
                    send_all(batch);
                }
            });
            slot.insert(queue).clone()
        }
    })
}

#[derive(Clone, Debug, thiserror::Error)]
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
    /// Starts the writers. After a commit that queued alerts or moved a deadline earlier they
    /// wake the scheduler through `redis`.
    pub fn start(
        store: &StoreSettings,
        settings: &IngestSettings,
        redis: ConnectionManager,
    ) -> Arc<Self> {
        let keys = RedisKeys::new(store.redis_prefix.clone());
        let (queue, rx) = mpsc::channel(settings.max_batch * settings.writers * 4);
        let (stop, _) = watch::channel(false);
        let rx = Arc::new(Mutex::new(rx));
        let models = Models::new();
        let tasks = (0..settings.writers)
            .map(|_| {
                let writer = Writer {
                    url: store.database_url.clone(),
                    connect_timeout: store.pg_timeout,
                    commit_timeout: settings.commit_timeout,
                    flapping: store.flapping,
                    conn: None,
                    redis: redis.clone(),
                    keys: keys.clone(),
                    models: models.clone(),
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

    /// Resolves once the ping is committed (or known not to be). Called on an HTTP worker
    /// thread (see [`answers_here`]).
    pub async fn write(&self, ping: NewPing) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            reply,
            on: answers_here(),
        };
        // The queue has room for several batches, so waiting for it is rare: that path is
        // boxed, which keeps every ping's future small (the job would be held in it twice).
        let queued = match self.queue.try_send(Job { ping, waiting }) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(job)) => {
                Box::pin(self.queue.send(job)).await.is_ok()
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        };
        if !queued {
            return Err(WriteError::Unavailable("shutting down".into()));
        }
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
    flapping: FlapPolicy,
    conn: Option<PgConn>,
    redis: ConnectionManager,
    keys: RedisKeys,
    /// AI heartbeats' models, shared by the writers.
    models: Models,
}

async fn commit_loop(
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    mut stop: watch::Receiver<bool>,
    mut writer: Writer,
    max_batch: usize,
) {
    loop {
        // The queue stays locked until this writer's batch is staged (written, not yet
        // committed): meanwhile pings pile up for the next writer, whose statements then
        // overlap this writer's COMMIT flush instead of splitting the load into tiny batches.
        let mut rx = queue.lock().await;
        let batch = {
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
        let (pings, waiting): (Vec<NewPing>, Vec<_>) =
            batch.into_iter().map(|j| (j.ping, j.waiting)).unzip();
        let started = Instant::now();
        let staged = writer.stage(&pings).await;
        drop(rx);
        let result = match staged {
            Ok(staged) => writer.finish(staged).await,
            Err(e) => Err(e),
        };
        metrics::histogram!("lifeline_ingest_batch_size").record(pings.len() as f64);
        metrics::histogram!("lifeline_ingest_commit_seconds")
            .record(started.elapsed().as_secs_f64());
        answer(&mut writer, pings, waiting, result).await;
    }
}

async fn answer(
    writer: &mut Writer,
    pings: Vec<NewPing>,
    waiting: Vec<Waiting>,
    result: Result<Vec<Recorded>, WriteError>,
) {
    match result {
        Ok(outcomes) => deliver(waiting.into_iter().zip(outcomes.into_iter().map(Ok))),
        // A ping Postgres refuses (not an outage) must not take its batch-mates down with it:
        // retry each on its own so only the bad one fails. Each is answered as soon as its own
        // retry ends, not after the whole batch's.
        Err(WriteError::Failed(reason)) if pings.len() > 1 => {
            tracing::warn!(%reason, size = pings.len(), "batch refused; committing pings one by one");
            for (ping, waiting) in pings.iter().zip(waiting) {
                let outcome = writer
                    .store(std::slice::from_ref(ping))
                    .await
                    .map(|o| o.first().copied().unwrap_or(Recorded::HeartbeatGone));
                deliver([(waiting, outcome)]);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, size = pings.len(), "batch not committed");
            deliver(waiting.into_iter().map(|w| (w, Err(e.clone()))));
        }
    }
}

/// Sends each worker thread its pings' answers in one message.
fn deliver(answers: impl IntoIterator<Item = (Waiting, Outcome)>) {
    // A handful of worker threads: a list searched from the front beats a map.
    let mut by_thread: Vec<(Answers, Vec<Answer>)> = Vec::new();
    for (Waiting { reply, on }, result) in answers {
        match by_thread
            .iter_mut()
            .find(|(queue, _)| queue.same_channel(&on))
        {
            Some((_, share)) => share.push((reply, result)),
            None => by_thread.push((on, vec![(reply, result)])),
        }
    }
    for (queue, share) in by_thread {
        // The thread's task has gone only if its runtime stopped: answer from here then.
        if let Err(mpsc::error::SendError(share)) = queue.send(share) {
            send_all(share);
        }
    }
}

/// Hands each ping its answer (a handler that gave up waiting is skipped).
fn send_all(answers: Vec<Answer>) {
    for (reply, result) in answers {
        let _ = reply.send(result);
    }
}

impl Writer {
    /// Stage and commit (used for pings retried one by one).
    async fn store(&mut self, pings: &[NewPing]) -> Result<Vec<Recorded>, WriteError> {
        let staged = self.stage(pings).await?;
        self.finish(staged).await
    }

    /// Everything up to COMMIT, on this writer's connection (opened if need be).
    async fn stage(&mut self, pings: &[NewPing]) -> Result<Staged, WriteError> {
        let Writer {
            url,
            connect_timeout,
            commit_timeout,
            conn: slot,
            models,
            flapping,
            ..
        } = self;
        let attempt = async {
            let conn = match &mut *slot {
                Some(conn) => conn,
                slot => {
                    let connect = lifeline_store::pg::connect(url);
                    let conn = tokio::time::timeout(*connect_timeout, connect)
                        .await
                        .map_err(|_| StoreError::Unavailable("connecting timed out".into()))??;
                    slot.insert(conn)
                }
            };
            pings::stage_batch(conn, pings, &mut models.for_batch(), flapping).await
        };
        let result = tokio::time::timeout(*commit_timeout, attempt).await;
        match result {
            Ok(Ok(staged)) => Ok(staged),
            Ok(Err(e)) => {
                // After any error the connection's state is unknown: start afresh next time.
                *slot = None;
                Err(e.into())
            }
            Err(_) => {
                *slot = None;
                Err(timed_out(*commit_timeout))
            }
        }
    }

    /// COMMIT; if its answer is lost, find out from Postgres whether it happened.
    async fn finish(&mut self, staged: Staged) -> Result<Vec<Recorded>, WriteError> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(WriteError::Unavailable(
                "connection lost before COMMIT".into(),
            ));
        };
        let result =
            tokio::time::timeout(self.commit_timeout, pings::commit_staged(conn, staged)).await;
        match result {
            Ok(Ok((outcomes, woken))) => {
                if woken != wake::Wake::default() {
                    // After answering, not before: a wake-up never delays a ping.
                    let (mut redis, keys) = (self.redis.clone(), self.keys.clone());
                    tokio::spawn(async move { wake::publish(&mut redis, &keys, woken).await });
                }
                Ok(outcomes)
            }
            // A batch settled after a lost COMMIT wakes nobody; the scheduler's poll covers it.
            Ok(Err(doubt)) => {
                self.conn = None;
                settle(&self.url, self.connect_timeout, doubt).await
            }
            Err(_) => {
                // The COMMIT may still land; its pings are answered 503 (the failure window).
                self.conn = None;
                Err(timed_out(self.commit_timeout))
            }
        }
    }
}

fn timed_out(limit: Duration) -> WriteError {
    WriteError::Unavailable(format!("commit took longer than {} ms", limit.as_millis()))
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => WriteError::Unavailable(m),
            other => WriteError::Failed(other.to_string()),
        }
    }
}

/// The connection died while committing: ask Postgres, on a new connection, whether the batch
/// committed, so that a stored ping is acknowledged and an unstored one is not. If that cannot
/// be known now (Postgres unreachable), the pings are answered 503 and may turn out stored: the
/// only way a refused ping can be in the table.
async fn settle(
    url: &str,
    connect_timeout: Duration,
    doubt: InDoubt,
) -> Result<Vec<Recorded>, WriteError> {
    for _ in 0..3 {
        let connect = lifeline_store::pg::connect(url);
        if let Ok(Ok(mut conn)) = tokio::time::timeout(connect_timeout, connect).await {
            match pings::commit_status(&mut conn, doubt.txid).await {
                Ok(Some(true)) => return Ok(doubt.committed()),
                Ok(Some(false)) => return Err(WriteError::Unavailable(doubt.error.to_string())),
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::warn!(
        txid = doubt.txid,
        "commit outcome unknown; its pings are answered 503"
    );
    // Never `Failed`: that would retry the pings one by one, and they may already be stored.
    Err(WriteError::Unavailable(doubt.error.to_string()))
}
