//! Black-box tests of the ping API (DESIGN.md §3) against real Postgres and Redis.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod concurrency;
mod contract;
mod durability;
mod operations;
mod rotation;
