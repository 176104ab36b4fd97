//! The dashboard and the management API, through HTTP as browsers and scripts use them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod detail;
