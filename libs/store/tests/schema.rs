//! `src/schema.rs` is written by hand to mirror `migrations/`. This checks the two against a
//! migrated database: the same tables, each with the same columns, so a migration that adds a
//! column (or a table) without the schema, or the other way round, fails here instead of at the
//! first query that needs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use lifeline_store::schema::*;
use lifeline_testkit::TestDb;

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The columns schema.rs declares for `table`, read from the SQL diesel writes for
/// `SELECT all_columns` (`"table"."column", …`).
fn declared(table: &str, select_sql: &str) -> BTreeSet<String> {
    let prefix = format!("\"{table}\".\"");
    select_sql
        .split(&prefix)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

macro_rules! declared_tables {
    ($($table:ident),* $(,)?) => {
        vec![$((
            stringify!($table).to_owned(),
            declared(
                stringify!($table),
                &diesel::debug_query::<diesel::pg::Pg, _>(
                    &$table::table.select($table::all_columns),
                )
                .to_string(),
            ),
        )),*]
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_declares_every_table_and_column_the_migrations_make() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let rows: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut migrated: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for row in rows {
        migrated
            .entry(row.table_name)
            .or_default()
            .insert(row.column_name);
    }

    // Every table of schema.rs (a table missing here but migrated fails the last check).
    let declared = declared_tables![
        teams,
        users,
        memberships,
        heartbeats,
        token_revocations,
        pings,
        status_changes,
        incidents,
        channels,
        heartbeat_channels,
        notifications,
        ai_models,
        stripe_events,
        api_keys,
        audit_log,
        notification_attempts,
        ingest_beacons,
        coverage,
        outages,
        server_secrets,
        revoked_sessions,
        password_resets,
        invitations,
    ];
    let mut drift = Vec::new();
    for (table, columns) in &declared {
        assert!(!columns.is_empty(), "no columns read for {table}");
        let in_db = migrated.remove(table).unwrap_or_default();
        for missing in in_db.difference(columns) {
            drift.push(format!("{table}.{missing}: migrated, not in schema.rs"));
        }
        for extra in columns.difference(&in_db) {
            drift.push(format!("{table}.{extra}: in schema.rs, not migrated"));
        }
    }
    for table in migrated.keys() {
        drift.push(format!("{table}: migrated, not in schema.rs"));
    }
    assert!(
        drift.is_empty(),
        "schema.rs and migrations/ differ:\n{drift:#?}"
    );
}
