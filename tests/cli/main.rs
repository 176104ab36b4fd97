//! The `lifeline` binary as scripts use it: admin commands with `--json`, the demo, migrations,
//! and configuration errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod channels;

use lifeline_testkit::{Lifeline, TestDb};

/// The binary on the test's database, with ping URLs under `https://hb.example.com/`.
pub(crate) fn lifeline(db: &TestDb) -> Lifeline {
    Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), &db.settings)
        .env("LIFELINE_PUBLIC_URL", "https://hb.example.com/")
}
