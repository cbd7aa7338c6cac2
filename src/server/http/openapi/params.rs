//! Parameters several routes share.

use utoipa::IntoParams;

/// The `Idempotency-Key` header of the publishing and provisioning routes
/// (read by `http::idempotency_key`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// 1 to 255 printable ASCII characters, scoped to the caller (user or
    /// key): a retry with the same key within 24 h answers the first
    /// response and does nothing again; the same key with a different
    /// request gets 422.
    #[param(rename = "Idempotency-Key")]
    pub key: Option<String>,
}
