//! Pings: the group-commit write path used by the ping API, and the history queries (which apply
//! the plan's retention cut-off at read time).

use std::time::Instant;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Int2, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use lifeline_domain::{
    FlapPolicy, HeartbeatId, HeartbeatTiming, LearnedCadence, Ping as RulePing, PingBatch,
    PingKind, TeamId,
};
use serde::Serialize;

use crate::decisions::{self, Decided, DecidedBy, Transitions};
use crate::label::stored;
use crate::row_address::RowAddress;
use crate::schema::{heartbeats, pings};
use crate::timing_rows::TimingRow;
use crate::wake::Wake;
use crate::{PgConn, StoreError, TeamScope};

/// A ping as received, ready to be stored.
#[derive(Clone, Debug)]
pub struct NewPing {
    pub heartbeat: HeartbeatId,
    pub team: TeamId,
    pub received: Received,
    pub kind: PingKind,
    pub exit_code: Option<u8>,
    pub method: &'static str,
    pub remote_addr: Option<String>,
    pub user_agent: Option<String>,
    pub body_size: i64,
    pub detail: Option<String>,
}

/// When a ping was received.
#[derive(Clone, Copy, Debug)]
pub enum Received {
    /// When the request arrived, by this process's monotonic clock (the ping API). The batch
    /// reads Postgres's clock in its first round trip and stores the ping at that time minus how
    /// long ago it arrived, so pings from every ingest process are on one clock whatever their
    /// own clocks say: a `/fail` is never taken for older than the success before it, nor a
    /// ping for late.
    Arrived(Instant),
    /// At this time, as given (tests, replays).
    At(DateTime<Utc>),
}

impl Received {
    /// The time to store, given Postgres's `clock` as read at `read_at`.
    fn on(self, clock: DateTime<Utc>, read_at: Instant) -> DateTime<Utc> {
        match self {
            Received::Arrived(arrived) => {
                let ago = read_at.saturating_duration_since(arrived);
                clock - chrono::Duration::from_std(ago).unwrap_or_default()
            }
            Received::At(at) => at,
        }
    }
}

/// What happened to each ping of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Committed.
    Stored,
    /// Its heartbeat was deleted after the token was resolved: nothing stored.
    HeartbeatGone,
}

/// A batch written inside its open transaction, waiting for `COMMIT`.
#[derive(Debug)]
pub struct Staged {
    txid: i64,
    outcome: Vec<Recorded>,
    wake: Wake,
    /// Counted and logged once `COMMIT` succeeded.
    transitions: Transitions,
}

/// Writes a batch of pings inside a new transaction, up to but not including `COMMIT`: lock the
/// touched heartbeats (in id order, so concurrent batches cannot deadlock), apply the pings to
/// their timing with the domain rules, insert all pings in one statement and update all
/// heartbeats in another. [`commit_staged`] finishes it; the split lets a writer hand the queue
/// to the next writer while its own `COMMIT` waits for the disk.
///
/// The transaction is driven by hand so that statements travel pipelined: `BEGIN` with the
/// locking read, the three writes together, then `COMMIT` — three round trips per batch
/// whatever its size. Because of that, after an error the connection may still be inside the
/// failed transaction: the caller must discard it (the ingest writer does).
pub async fn stage_batch(
    conn: &mut PgConn,
    batch: &[NewPing],
    expectations: &mut impl Expectations,
    flapping: &FlapPolicy,
) -> Result<Staged, StoreError> {
    record_in_tx(conn, batch, expectations, flapping).await
}

/// What AI heartbeats' models expect after each ping (the ping writer's cache of models),
/// given the heartbeat's timing before it. A heartbeat it says nothing about keeps the cadence
/// stored on its row.
pub trait Expectations: Send {
    /// Called once per batch, once its heartbeats are locked, with those of them in AI mode:
    /// fetch their models if need be (on `conn`, inside the batch's transaction). Heartbeats in
    /// fixed mode, most of any batch, cost nothing.
    fn prepare(
        &mut self,
        conn: &PgConn,
        ai: &[HeartbeatId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `at` is when the ping counts as received (see [`Received`]).
    fn after(
        &self,
        heartbeat: HeartbeatId,
        ping: &NewPing,
        at: DateTime<Utc>,
        before: &HeartbeatTiming,
    ) -> Option<LearnedCadence>;
}

/// No models: every heartbeat keeps its stored cadence.
pub struct NoModels;

impl Expectations for NoModels {
    async fn prepare(&mut self, _: &PgConn, _: &[HeartbeatId]) -> Result<(), StoreError> {
        Ok(())
    }

    fn after(
        &self,
        _: HeartbeatId,
        _: &NewPing,
        _: DateTime<Utc>,
        _: &HeartbeatTiming,
    ) -> Option<LearnedCadence> {
        None
    }
}

/// Commits a staged batch. When that fails the batch may or may not be stored (the answer to
/// `COMMIT` was lost): the error carries the transaction id, for [`commit_status`] to settle on
/// a new connection.
pub async fn commit_staged(
    conn: &mut PgConn,
    staged: Staged,
) -> Result<(Vec<Recorded>, Wake), InDoubt> {
    match conn.batch_execute("COMMIT").await {
        Ok(()) => {
            staged.transitions.committed();
            Ok((staged.outcome, staged.wake))
        }
        Err(e) => Err(InDoubt {
            error: e.into(),
            txid: staged.txid,
            outcome: staged.outcome,
            transitions: staged.transitions,
        }),
    }
}

diesel::define_sql_function! {
    /// The current transaction's id (Postgres's `txid_current()`).
    fn txid_current() -> Int8;
}

diesel::define_sql_function! {
    /// Postgres's clock right now (not the transaction's start, as `now()` is).
    fn clock_timestamp() -> Timestamptz;
}

diesel::define_sql_function! {
    /// `committed`, `aborted`, `in progress`, or NULL when too old to know.
    fn txid_status(txid: Int8) -> Nullable<Text>;
}

/// A batch whose `COMMIT` went unanswered: what it would have recorded, and its transaction.
#[derive(Debug)]
pub struct InDoubt {
    /// Why `COMMIT` got no answer.
    pub error: StoreError,
    pub txid: i64,
    pub outcome: Vec<Recorded>,
    transitions: Transitions,
}

impl InDoubt {
    /// The batch turned out committed ([`commit_status`]): its status changes are counted and
    /// logged now, and its outcome is returned.
    pub fn committed(self) -> Vec<Recorded> {
        self.transitions.committed();
        self.outcome
    }
}

/// Whether transaction `txid` committed: `Some(true)` committed, `Some(false)` rolled back,
/// `None` still running or no longer known. Postgres keeps this for recent transactions, so a
/// writer whose connection died during `COMMIT` can learn the truth and answer accordingly.
pub async fn commit_status(conn: &mut PgConn, txid: i64) -> Result<Option<bool>, StoreError> {
    let status: Option<String> = diesel::select(txid_status(txid)).get_result(conn).await?;
    Ok(match status.as_deref() {
        Some("committed") => Some(true),
        Some("aborted") => Some(false),
        _ => None,
    })
}

/// Opens a batch's transaction. A batch touches a few hundred heartbeats by primary key; with
/// the default costs Postgres reads a table of tens of thousands of heartbeats whole instead
/// (a sequential scan to lock them, and another under a hash join to update them), which costs
/// several times the index lookups once the rows are in memory, as the heartbeats being pinged
/// are. Index paths are what these statements are written for, whatever the table's size.
const BEGIN_BATCH: &str = "BEGIN; SET LOCAL enable_seqscan = off";

async fn record_in_tx(
    conn: &PgConn,
    batch: &[NewPing],
    expectations: &mut impl Expectations,
    flapping: &FlapPolicy,
) -> Result<Staged, StoreError> {
    let mut ids: Vec<uuid::Uuid> = batch.iter().map(|p| p.heartbeat.as_uuid()).collect();
    ids.sort_unstable();
    ids.dedup();
    // `BEGIN` goes over the simple protocol (no statement to prepare), pipelined with the reads.
    let mut begin_on = conn;
    // The instant the clock's answer came back, taken then and not after the locking read:
    // that read may wait for a row lock (a deadline pass, the flapping check), and counting the
    // wait as the pings' age would date them too early — a success could then look older than
    // the `/fail` before it and be ignored.
    let clock_read = async {
        let read = diesel::select((txid_current(), clock_timestamp()))
            .get_result::<(i64, DateTime<Utc>)>(&mut { conn })
            .await;
        (read, Instant::now())
    };
    let (begun, (clock, read_at), locked) = tokio::join!(
        begin_on.batch_execute(BEGIN_BATCH),
        clock_read,
        heartbeats::table
            .filter(heartbeats::id.eq_any(&ids))
            .order(heartbeats::id)
            .for_no_key_update()
            .select(TimingRow::as_select())
            .load::<TimingRow>(&mut { conn }),
    );
    begun?;
    let (txid, clock) = clock?;
    let times: Vec<DateTime<Utc>> = batch
        .iter()
        .map(|p| p.received.on(clock, read_at))
        .collect();
    // Kept in id order (as locked) and found by binary search: no hashing of every ping, and
    // each heartbeat's rules stay where they are until they become its decision.
    let mut touched: Vec<Locked> = Vec::with_capacity(ids.len());
    for mut row in locked? {
        touched.push(Locked {
            heartbeat: row.heartbeat(),
            address: row.address(),
            team: row.team(),
            ai_mode: row.ai_mode(),
            rules: PingBatch::new(row.timing()?),
            zone: row.take_zone(),
        });
    }
    touched.sort_unstable_by_key(|l| l.heartbeat);
    let ai: Vec<HeartbeatId> = touched
        .iter()
        .filter(|l| l.ai_mode)
        .map(|l| l.heartbeat)
        .collect();
    if !ai.is_empty() {
        expectations.prepare(conn, &ai).await?;
    }

    // Apply in arrival order; the domain ignores pings older than what is already applied.
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| times[i]);
    let mut outcome = vec![Recorded::HeartbeatGone; batch.len()];
    let mut rows = PingColumns::with_capacity(batch.len());
    for i in order {
        let ping = &batch[i];
        let Ok(found) = touched.binary_search_by_key(&ping.heartbeat, |l| l.heartbeat) else {
            continue;
        };
        let Locked {
            team,
            ai_mode,
            rules,
            ..
        } = &mut touched[found];
        // A model applies to a heartbeat still in AI mode as locked (a writer's cached model
        // may outlive a switch back to fixed mode by a few seconds).
        let learned = ai_mode
            .then(|| expectations.after(ping.heartbeat, ping, times[i], rules.timing()))
            .flatten();
        // Only a failure that really came before the newer ping gets here (both are on
        // Postgres's clock): it is stored and shown, but the newer signal stands. Say so.
        if ping.kind == PingKind::Fail
            && let Some(last) = rules.timing().last_ping_at
            && times[i] < last
        {
            tracing::info!(
                heartbeat = %ping.heartbeat, failed_at = %times[i], newer = %last,
                "a failure arrived after a newer ping: stored in the history, status unchanged"
            );
        }
        let effect = rules.apply(RulePing {
            kind: ping.kind,
            exit_code: ping.exit_code,
            at: times[i],
            learned,
        });
        outcome[i] = Recorded::Stored;
        rows.push(
            ping,
            times[i],
            *team,
            effect.duration.map(|d| d.num_milliseconds()),
        );
    }
    let decided: Vec<Decided> = touched
        .into_iter()
        .map(|l| Decided {
            heartbeat: l.heartbeat,
            address: Some(l.address),
            team: l.team,
            zone: l.zone,
            decision: l.rules.finish(),
        })
        .collect();
    let deadlines = decided.iter().any(|d| d.decision.wake_scheduler);
    // The writes are independent: send them pipelined, in one round trip.
    let (inserted, written) = tokio::join!(
        rows.insert(conn),
        decisions::write(conn, &decided, DecidedBy::Pings(flapping))
    );
    inserted?;
    let written = written?;
    Ok(Staged {
        txid,
        outcome,
        wake: Wake {
            deadlines,
            deliveries: written.notifications > 0,
        },
        transitions: written.transitions,
    })
}

/// A heartbeat of the batch, as locked, with the pings applied so far.
struct Locked {
    heartbeat: HeartbeatId,
    address: RowAddress,
    team: TeamId,
    zone: String,
    ai_mode: bool,
    rules: PingBatch,
}

/// Column arrays for one `INSERT … SELECT FROM unnest(…)`: a single statement whatever the batch
/// size, with a fixed text that Postgres plans once. The texts are borrowed from the batch.
#[derive(Default)]
struct PingColumns<'a> {
    received_at: Vec<DateTime<Utc>>,
    heartbeat_id: Vec<uuid::Uuid>,
    team_id: Vec<uuid::Uuid>,
    kind: Vec<&'static str>,
    exit_code: Vec<Option<i16>>,
    method: Vec<&'static str>,
    remote_addr: Vec<Option<&'a str>>,
    user_agent: Vec<Option<&'a str>>,
    body_size: Vec<i64>,
    duration_ms: Vec<Option<i64>>,
    detail: Vec<Option<&'a str>>,
}

impl<'a> PingColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        Self {
            received_at: Vec::with_capacity(n),
            heartbeat_id: Vec::with_capacity(n),
            team_id: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            exit_code: Vec::with_capacity(n),
            method: Vec::with_capacity(n),
            remote_addr: Vec::with_capacity(n),
            user_agent: Vec::with_capacity(n),
            body_size: Vec::with_capacity(n),
            duration_ms: Vec::with_capacity(n),
            detail: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, p: &'a NewPing, at: DateTime<Utc>, team: TeamId, duration_ms: Option<i64>) {
        self.received_at.push(at);
        self.heartbeat_id.push(p.heartbeat.as_uuid());
        self.team_id.push(team.as_uuid());
        self.kind.push(p.kind.as_str());
        self.exit_code.push(p.exit_code.map(i16::from));
        self.method.push(p.method);
        self.remote_addr.push(p.remote_addr.as_deref());
        self.user_agent.push(p.user_agent.as_deref());
        self.body_size.push(p.body_size);
        self.duration_ms.push(duration_ms);
        self.detail.push(p.detail.as_deref());
    }

    async fn insert(self, mut conn: &PgConn) -> Result<(), StoreError> {
        if self.received_at.is_empty() {
            return Ok(());
        }
        self.execute(&mut conn).await?;
        Ok(())
    }
}

// A hand-written statement rather than `sql_query`: diesel never caches the prepared statement of
// a `sql_query`, which would cost every batch an extra round trip to parse the same text again.
impl QueryFragment<Pg> for PingColumns<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, exit_code, method, \
             remote_addr, user_agent, body_size, duration_ms, detail) SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Timestamptz>, _>(&self.received_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.heartbeat_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.team_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Int2>>, _>(&self.exit_code)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.method)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.remote_addr)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.user_agent)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.body_size)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Int8>>, _>(&self.duration_ms)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.detail)?;
        out.push_sql(")");
        Ok(())
    }
}

impl QueryId for PingColumns<'_> {
    type QueryId = PingColumns<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// A stored ping, as history shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Ping {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub kind: PingKind,
    pub exit_code: Option<i16>,
    pub method: String,
    pub remote_addr: Option<String>,
    pub user_agent: Option<String>,
    pub body_size: i64,
    pub duration_ms: Option<i64>,
    pub detail: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = pings)]
pub(crate) struct PingRow {
    id: i64,
    received_at: DateTime<Utc>,
    kind: String,
    exit_code: Option<i16>,
    method: String,
    remote_addr: Option<String>,
    user_agent: Option<String>,
    body_size: i64,
    duration_ms: Option<i64>,
    detail: Option<String>,
}

impl TryFrom<PingRow> for Ping {
    type Error = StoreError;
    fn try_from(r: PingRow) -> Result<Self, StoreError> {
        Ok(Ping {
            id: r.id,
            received_at: r.received_at,
            kind: stored(&r.kind)?,
            exit_code: r.exit_code,
            method: r.method,
            remote_addr: r.remote_addr,
            user_agent: r.user_agent,
            body_size: r.body_size,
            duration_ms: r.duration_ms,
            detail: r.detail,
        })
    }
}

/// The team's pings of one heartbeat that its plan still shows.
pub(crate) fn visible(
    scope: &TeamScope,
    heartbeat: HeartbeatId,
) -> pings::BoxedQuery<'static, diesel::pg::Pg> {
    pings::table
        .filter(pings::team_id.eq(scope.team_id().as_uuid()))
        .filter(pings::heartbeat_id.eq(heartbeat.as_uuid()))
        .filter(pings::received_at.ge(scope.plan().retention_cutoff(Utc::now())))
        .into_boxed()
}

/// How many pings of the heartbeat are stored and visible under the plan.
pub async fn count(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
) -> Result<i64, StoreError> {
    Ok(visible(scope, heartbeat).count().get_result(conn).await?)
}

/// The newest pings first, at most `limit`.
pub async fn recent(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    limit: i64,
) -> Result<Vec<Ping>, StoreError> {
    visible(scope, heartbeat)
        .order(pings::received_at.desc())
        .limit(limit)
        .select(PingRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Ping::try_from)
        .collect()
}
