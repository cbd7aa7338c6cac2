//! Observability: Prometheus metrics and latency histograms.

pub mod latency;
pub mod metrics;
