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
}
