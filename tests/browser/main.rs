//! The dashboard in a real browser (headless Chromium over WebDriver): what a new team does on
//! its first day, with screenshots under `target/browser/` to look at.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod driver;
mod first_day;
mod upgrade;
