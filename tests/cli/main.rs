//! The `lifeline` binary as scripts use it: admin commands with `--json`, the demo, migrations,
//! and configuration errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod channels;
mod store;
