//! How every Lifeline process reads its settings.
//!
//! Settings come from environment variables, but nothing except [`Source::process`] touches the
//! environment: each settings struct reads through a [`Source`], so a test hands it a few
//! name/value pairs instead of mutating process-wide state (which is racy under parallel tests,
//! and `unsafe` in this edition). Every reader treats an empty or blank value as unset, takes a
//! documented default, and reports a present but wrong value as one [`SettingError`] naming the
//! variable — so an operator learns which line of their configuration to fix.

mod error;
mod redact;
mod source;
mod span;

pub use error::SettingError;
pub use redact::redacted_url;
pub use source::Source;
pub use span::span;
