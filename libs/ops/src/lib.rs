//! What every Lifeline service role shares to be operated: the process-wide Prometheus recorder,
//! the `/healthz`, `/readyz` and `/metrics` endpoints, structured logs, answers to `HEAD`
//! without a body, and the wait for a shutdown signal.
//!
//! Each service says only what "ready" means for it, by implementing [`Readiness`]; the rest
//! behaves the same in every role, so an operator's probes, dashboards and log pipeline work
//! for all of them alike, and no service has to depend on another to get them.

mod endpoints;
mod head;
pub mod logs;
mod recorder;
mod shutdown;

pub use endpoints::{Endpoints, OpsServer, Readiness, Ready, configure_liveness};
pub use head::no_body_for_head;
pub use metrics_exporter_prometheus::PrometheusHandle;
pub use recorder::prometheus;
pub use shutdown::shutdown_signal;
