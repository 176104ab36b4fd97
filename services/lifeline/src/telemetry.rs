use tracing_subscriber::EnvFilter;

/// Structured logs on stderr. `LIFELINE_LOG` sets the filter (default `info`, `warn` for the
/// script-facing commands); `LIFELINE_LOG_FORMAT=json` gives one JSON object per line.
pub fn init(quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter =
        EnvFilter::try_from_env("LIFELINE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = std::env::var("LIFELINE_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
