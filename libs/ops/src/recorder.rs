use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus recorder, installed on first use. The `metrics` macros write to
/// one global recorder, so every service in the process shares it (and tests start many
/// services in one process).
pub fn prometheus() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("lifeline_ingest_batch_size".into()),
                &[
                    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0,
                ],
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0,
                    ],
                )
            });
        match builder {
            Ok(b) => b.install_recorder().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "metrics recorder already set; /metrics stays empty");
                PrometheusBuilder::new().build_recorder().handle()
            }),
            Err(e) => {
                tracing::warn!(error = %e, "bad metrics buckets");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}
