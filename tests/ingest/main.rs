//! Black-box tests of the ping API (README, "The ping API") against real Postgres and Redis.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod concurrency;
mod contract;
mod durability;
mod operations;
mod rotation;
mod unknown_tokens;
