//! Observability: the Prometheus text of this instance's numbers and the
//! span every request is logged under.

pub mod metrics;
pub(crate) mod request_span;
