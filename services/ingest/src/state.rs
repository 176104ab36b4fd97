use std::sync::Arc;

use crate::IngestSettings;
use crate::rate_limit::RateLimiter;
use crate::token_cache::TokenResolver;
use crate::unknown_tokens::UnknownTokenLimit;
use crate::writer::PingWriter;

pub struct AppState {
    pub tokens: Arc<TokenResolver>,
    pub limiter: Arc<RateLimiter>,
    pub unknown_tokens: UnknownTokenLimit,
    pub writer: Arc<PingWriter>,
    pub settings: IngestSettings,
    /// `lifeline_pings_total{result="ok"}`, registered once: the `counter!` macro would build
    /// and look up its labelled key on every ping.
    pub stored: metrics::Counter,
}
