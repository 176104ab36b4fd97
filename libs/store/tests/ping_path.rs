//! The ping write path as it is lightened for bursts: a ping leaves an earlier stored next check
//! in place (so its row update touches no index), the deadline pass then corrects it without
//! deciding anything, and pings still go with their heartbeat and team when those are deleted
//! (a trigger instead of a foreign key checked on every insert), and a batch reads its
//! heartbeats by primary key, never the whole table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use lifeline_domain::{FlapPolicy, HeartbeatId, HeartbeatName, Plan, Schedule, Status, TeamName};
use lifeline_store::audit::Actor;
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::schema::pings as ping_table;
use lifeline_store::{TeamScope, deadlines, pings, teams};
use lifeline_testkit::{TestDb, success_ping, success_ping_of};

async fn team(conn: &mut AsyncPgConnection, name: &str) -> TeamScope {
    let team = teams::create(conn, &TeamName::parse(name).unwrap(), Plan::Free)
        .await
        .unwrap();
    TeamScope::for_operator(conn, team.id).await.unwrap()
}

async fn heartbeat(conn: &mut AsyncPgConnection, scope: &TeamScope, name: &str) -> Heartbeat {
    // Late after a minute without a ping, down 30 s later.
    let schedule = Schedule::from_secs(60, 30).unwrap();
    let new = NewHeartbeat::new(HeartbeatName::parse(name).unwrap(), schedule);
    heartbeats::create(conn, scope, new).await.unwrap()
}

/// A success ping through the ping API's write path, received at `at`.
async fn ping(conn: &mut AsyncPgConnection, hb: &Heartbeat, at: DateTime<Utc>) {
    store(conn, &[success_ping(hb, at)]).await;
}

/// A batch through the ping API's write path: staged, then committed.
async fn store(conn: &mut AsyncPgConnection, batch: &[pings::NewPing]) -> Vec<pings::Recorded> {
    let staged = pings::stage_batch(conn, batch, &mut pings::NoModels, &FlapPolicy::default())
        .await
        .unwrap();
    pings::commit_staged(conn, staged).await.unwrap().0
}

async fn ping_count(conn: &mut AsyncPgConnection, hb: &Heartbeat) -> i64 {
    ping_table::table
        .filter(ping_table::heartbeat_id.eq(hb.id.as_uuid()))
        .count()
        .get_result(conn)
        .await
        .unwrap()
}

#[derive(QueryableByName)]
struct Updates {
    #[diesel(sql_type = BigInt)]
    all: i64,
    #[diesel(sql_type = BigInt)]
    hot: i64,
}

/// Row updates of `heartbeats` so far on this connection, and how many of them were HOT (no new
/// index entries).
async fn heartbeat_updates(conn: &mut AsyncPgConnection) -> Updates {
    heartbeat_stats(conn, "n_tup_upd AS all, n_tup_hot_upd AS hot").await
}

/// `columns` of `heartbeats` in `pg_stat_user_tables`, including everything done so far on this
/// connection.
async fn heartbeat_stats<T: QueryableByName<diesel::pg::Pg> + Send + 'static>(
    conn: &mut AsyncPgConnection,
    columns: &str,
) -> T {
    // A backend sends its counts when it is next idle, at most once a second unless asked: ask,
    // so that the counts read next include every update made so far on this connection.
    diesel::sql_query("SELECT pg_stat_force_next_flush()")
        .execute(conn)
        .await
        .unwrap();
    diesel::sql_query(format!(
        "SELECT {columns} FROM pg_stat_user_tables WHERE relname = 'heartbeats'"
    ))
    .get_result(conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_keeps_an_earlier_check_which_the_deadline_pass_corrects_without_a_decision() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let scope = team(&mut conn, "Acme").await;
    let hb = heartbeat(&mut conn, &scope, "nightly").await;
    assert_eq!(hb.next_check_at, None, "a new heartbeat is not watched yet");

    let first = Utc::now().duration_trunc(Duration::seconds(1)).unwrap() - Duration::seconds(20);
    ping(&mut conn, &hb, first).await;
    let after_first = heartbeats::find(&mut conn, &scope, hb.id).await.unwrap();
    assert_eq!(after_first.timing.status, Status::Up);
    assert_eq!(
        after_first.next_check_at,
        Some(first + Duration::seconds(60)),
        "nothing stored to keep: the first ping's check is written"
    );

    // The next ping moves the deadline 5 s later; the stored check stays where it was, and the
    // row update is HOT.
    let before = heartbeat_updates(&mut conn).await;
    let second = first + Duration::seconds(5);
    ping(&mut conn, &hb, second).await;
    let after = heartbeat_updates(&mut conn).await;
    let after_second = heartbeats::find(&mut conn, &scope, hb.id).await.unwrap();
    assert_eq!(after_second.timing.last_ping_at, Some(second));
    assert_eq!(
        after_second.timing.due_at,
        Some(second + Duration::seconds(60))
    );
    assert_eq!(
        after_second.next_check_at,
        Some(first + Duration::seconds(60))
    );
    assert_eq!(after.all - before.all, 1, "one row update");
    assert_eq!(after.hot - before.hot, 1, "and it added no index entry");

    // When the early check comes, the deadline pass finds the heartbeat on time: no change, no
    // alert; it stores the real next check.
    let passed = deadlines::process_due(
        &mut conn,
        first + Duration::seconds(61),
        first + Duration::seconds(61),
        100,
        &FlapPolicy::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            passed.claimed,
            passed.late,
            passed.down,
            passed.notifications
        ),
        (1, 0, 0, 0)
    );
    let corrected = heartbeats::find(&mut conn, &scope, hb.id).await.unwrap();
    assert_eq!(corrected.timing.status, Status::Up);
    assert_eq!(
        corrected.next_check_at,
        Some(second + Duration::seconds(60))
    );
    // And at the real deadline it is late, as it would have been.
    let late = deadlines::process_due(
        &mut conn,
        second + Duration::seconds(61),
        second + Duration::seconds(61),
        100,
        &FlapPolicy::default(),
    )
    .await
    .unwrap();
    assert_eq!((late.claimed, late.late), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_go_with_their_heartbeat_and_their_team() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let acme = team(&mut conn, "Acme").await;
    let other = team(&mut conn, "Other").await;
    let deleted = heartbeat(&mut conn, &acme, "deleted").await;
    let kept = heartbeat(&mut conn, &acme, "kept").await;
    let elsewhere = heartbeat(&mut conn, &other, "elsewhere").await;
    let now = Utc::now();
    for (i, hb) in [&deleted, &kept, &elsewhere].into_iter().enumerate() {
        for n in 0..3 {
            ping(
                &mut conn,
                hb,
                now + Duration::seconds(i64::try_from(i).unwrap() * 10 + n),
            )
            .await;
        }
        assert_eq!(ping_count(&mut conn, hb).await, 3);
    }

    heartbeats::delete(&mut conn, &acme, deleted.id)
        .await
        .unwrap();
    assert_eq!(ping_count(&mut conn, &deleted).await, 0);
    assert_eq!(
        ping_count(&mut conn, &kept).await,
        3,
        "its neighbour's stay"
    );

    teams::delete(&mut conn, &acme, Actor::Operator)
        .await
        .unwrap();
    assert_eq!(ping_count(&mut conn, &kept).await, 0);
    assert_eq!(
        ping_count(&mut conn, &elsewhere).await,
        3,
        "another team's stay"
    );
}

#[derive(QueryableByName)]
struct Scans {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    idx: i64,
    #[diesel(sql_type = BigInt)]
    fetched: i64,
}

/// Scans of `heartbeats` so far in this database: whole-table reads, index scans, and rows
/// fetched through an index.
async fn heartbeat_scans(conn: &mut AsyncPgConnection) -> Scans {
    heartbeat_stats(
        conn,
        "seq_scan AS seq, coalesce(idx_scan, 0) AS idx, coalesce(idx_tup_fetch, 0) AS fetched",
    )
    .await
}

/// With a few hundred heartbeats out of thousands in a batch, Postgres's default costs read the
/// whole table to lock them and again to update them; the batch locks them through the primary
/// key and updates them by the addresses it locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reads_its_heartbeats_by_index_not_the_whole_table() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let scope = team(&mut conn, "Acme").await;
    let first = heartbeat(&mut conn, &scope, "template").await;
    // 20,000 more like it, with their own tokens, and statistics that say so: a table the size
    // where the cost of each way to reach a few hundred rows is what production sees.
    diesel::sql_query(
        "INSERT INTO heartbeats (id, team_id, name, token, token_hash, interval_secs, grace_secs) \
         SELECT gen_random_uuid(), team_id, 'job ' || i, md5(i::text), sha256(i::text::bytea), \
                interval_secs, grace_secs \
         FROM heartbeats, generate_series(1, 20000) AS i WHERE id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(first.id.as_uuid())
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query("ANALYZE heartbeats")
        .execute(&mut conn)
        .await
        .unwrap();
    let ids: Vec<uuid::Uuid> = lifeline_store::schema::heartbeats::table
        .select(lifeline_store::schema::heartbeats::id)
        .order(lifeline_store::schema::heartbeats::id)
        .limit(300)
        .load(&mut conn)
        .await
        .unwrap();
    let now = Utc::now();
    let batch: Vec<pings::NewPing> = ids
        .iter()
        .map(|id| success_ping_of(HeartbeatId::from_uuid(*id), scope.team_id(), now))
        .collect();

    let before = heartbeat_scans(&mut conn).await;
    let recorded = store(&mut conn, &batch).await;
    let after = heartbeat_scans(&mut conn).await;

    assert_eq!(recorded, vec![pings::Recorded::Stored; 300]);
    assert_eq!(
        after.seq - before.seq,
        0,
        "the batch read the whole heartbeats table"
    );
    assert!(after.idx > before.idx, "the batch used no index");
    let stored: i64 = ping_table::table
        .filter(ping_table::heartbeat_id.eq_any(&ids))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 300);

    // Once more, with no status to change (no status_changes rows, whose foreign key would look
    // each heartbeat up): the locking read fetches each row through the index once, and the
    // update reaches each locked row by its address, not by another primary-key lookup.
    let batch: Vec<pings::NewPing> = ids
        .iter()
        .map(|id| {
            success_ping_of(
                HeartbeatId::from_uuid(*id),
                scope.team_id(),
                now + Duration::seconds(1),
            )
        })
        .collect();
    let before = heartbeat_scans(&mut conn).await;
    store(&mut conn, &batch).await;
    let after = heartbeat_scans(&mut conn).await;
    assert_eq!(
        after.fetched - before.fetched,
        300,
        "rows of heartbeats fetched through an index for 300 pings"
    );
}

/// A batch that has to wait for its heartbeat's row (an edit was writing it) locks the row's
/// new version and writes the timing there: the address it updates by is the one it locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_waited_for_an_edit_writes_the_edited_row() {
    use diesel_async::AsyncConnection;
    use lifeline_store::schema::heartbeats as hb_table;

    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let mut editor = db.conn().await;
    let scope = team(&mut conn, "Acme").await;
    let hb = heartbeat(&mut conn, &scope, "nightly").await;
    let (edit_tx, edit_done) = tokio::sync::oneshot::channel::<()>();
    let (locked_tx, locked) = tokio::sync::oneshot::channel::<()>();
    let id = hb.id.as_uuid();
    let edit = tokio::spawn(async move {
        editor
            .transaction::<_, diesel::result::Error, _>(async move |tx| {
                diesel::update(hb_table::table.find(id))
                    .set(hb_table::description.eq("moved to a new row version"))
                    .execute(tx)
                    .await?;
                locked_tx.send(()).unwrap();
                edit_done.await.unwrap();
                Ok(())
            })
            .await
            .unwrap();
    });
    locked.await.unwrap();
    let at = Utc::now().duration_trunc(Duration::seconds(1)).unwrap();
    let batch = [success_ping(&hb, at)];
    let (flapping, mut models) = (FlapPolicy::default(), pings::NoModels);
    let staged = {
        let staging = pings::stage_batch(&mut conn, &batch, &mut models, &flapping);
        tokio::pin!(staging);
        // The batch waits for the edit's row lock.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(300), &mut staging)
                .await
                .is_err(),
            "the batch did not wait for the row lock"
        );
        edit_tx.send(()).unwrap();
        staging
            .await
            .expect("the batch is written to the edited row")
    };
    pings::commit_staged(&mut conn, staged).await.unwrap();
    edit.await.unwrap();

    let (description, last_ping, status): (String, Option<DateTime<Utc>>, String) = hb_table::table
        .find(id)
        .select((
            hb_table::description,
            hb_table::last_ping_at,
            hb_table::status,
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(description, "moved to a new row version", "the edit stands");
    assert_eq!(last_ping, Some(at), "the ping's timing was written");
    assert_eq!(status, Status::Up.as_str());
    assert_eq!(ping_count(&mut conn, &hb).await, 1);
}
