//! Where a row version is stored (Postgres's `ctid`), for the ping batch, which reads its
//! heartbeats under a row lock and then updates them: by address the `UPDATE` fetches each row
//! straight from its heap page (a TID scan) instead of finding it again through the primary
//! key.
//!
//! An address is only good inside the transaction that locked the row and only until that
//! transaction updates the row itself (a new version is stored elsewhere). The statement that
//! uses them also matches each row's id, and checks that every row was updated.

use std::io::Write;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::{
    AppearsOnTable, AsExpression, Expression, SelectableExpression, ValidGrouping,
};
use diesel::pg::{Pg, PgValue};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::{self, IsNull, Output, ToSql};

use crate::schema::heartbeats;

/// Postgres's `tid` type.
#[derive(diesel::sql_types::SqlType, QueryId)]
#[diesel(postgres_type(oid = 27, array_oid = 1010))]
pub(crate) struct Tid;

/// A row version's address: its heap page and its slot on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromSqlRow, AsExpression)]
#[diesel(sql_type = Tid)]
pub(crate) struct RowAddress {
    block: u32,
    slot: u16,
}

impl FromSql<Tid, Pg> for RowAddress {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        // Binary `tid`: the block number (4 bytes) then the slot (2 bytes), big-endian.
        match *value.as_bytes() {
            [b0, b1, b2, b3, s0, s1] => Ok(RowAddress {
                block: u32::from_be_bytes([b0, b1, b2, b3]),
                slot: u16::from_be_bytes([s0, s1]),
            }),
            ref other => Err(format!("a tid is 6 bytes, got {}", other.len()).into()),
        }
    }
}

impl ToSql<Tid, Pg> for RowAddress {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&self.block.to_be_bytes())?;
        out.write_all(&self.slot.to_be_bytes())?;
        Ok(IsNull::No)
    }
}

/// `heartbeats.ctid`, to select beside a row's columns (the schema lists no system columns).
#[derive(Clone, Copy, Debug, QueryId, ValidGrouping)]
pub(crate) struct HeartbeatAddress;

impl Expression for HeartbeatAddress {
    type SqlType = Tid;
}

impl QueryFragment<Pg> for HeartbeatAddress {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql("\"heartbeats\".\"ctid\"");
        Ok(())
    }
}

impl AppearsOnTable<heartbeats::table> for HeartbeatAddress {}
impl SelectableExpression<heartbeats::table> for HeartbeatAddress {}
