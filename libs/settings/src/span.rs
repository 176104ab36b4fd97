use std::time::Duration;

/// A configured duration as a span to add to instants, capped at a century so that date
/// arithmetic with an absurd setting saturates instead of overflowing.
pub fn span(d: Duration) -> chrono::Duration {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    chrono::Duration::from_std(d.min(CENTURY)).unwrap_or(chrono::Duration::zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_saturate_at_a_century() {
        assert_eq!(
            span(Duration::from_millis(1_500)),
            chrono::Duration::milliseconds(1_500)
        );
        let century = span(Duration::from_secs(100 * 365 * 86_400));
        assert_eq!(span(Duration::MAX), century);
        assert_eq!(span(Duration::from_secs(u64::MAX / 2)), century);
    }
}
