//! What Lifeline's tests share, in one dev-only crate:
//!
//! - [`wait`]: condition waits that replace fixed sleeps;
//! - [`http`] and [`smtp`]: small real servers on 127.0.0.1 that record what they receive (the
//!   webhook/Slack receiver and the mail server);
//! - [`stripe`]: a fake Stripe API (Checkout and portal sessions, and their pages) and Stripe's
//!   webhook signature;
//! - [`chaos`]: a TCP proxy that cuts the link to Postgres or Redis on demand;
//! - [`tls_engines`]: throw-away Postgres and Redis servers that speak TLS, with a test CA;
//! - with feature `db`, [`db`]: a database and Redis prefix of each test's own;
//! - with feature `app` (the default), [`app`]: the services running in the test's process, and
//!   [`process`]: the `lifeline` binary as a process, and [`web`]: the dashboard in-process with
//!   a cookie-keeping client.
//!
//! Setting up a test either works or fails the test, so this crate panics instead of returning
//! errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod chaos;
pub mod engines;
pub mod http;
pub mod smtp;
pub mod stripe;
pub mod tls_engines;
pub mod wait;

#[cfg(feature = "db")]
pub mod db;

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "app")]
pub mod process;
#[cfg(feature = "app")]
pub mod web;

pub use chaos::{ChaosProxy, free_port, via};
pub use http::{HttpServer, Reply, Request};
pub use smtp::{Mail, SmtpMode, SmtpServer};
pub use stripe::FakeStripe;
pub use wait::{PATIENCE, wait_for, wait_until};

#[cfg(feature = "db")]
pub use db::{TestDb, success_ping, success_ping_of};

#[cfg(feature = "app")]
pub use app::{TestApp, local_settings};
#[cfg(feature = "app")]
pub use process::{Lifeline, Process, Role};
#[cfg(feature = "app")]
pub use web::{Page, TestWeb, WebClient};
