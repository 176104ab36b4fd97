//! Sends to real local servers: an SMTP server and HTTP receivers on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod email;
mod guard;
mod slack;
mod support;
mod webhook;
