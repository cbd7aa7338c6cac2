//! Outbound webhooks, the Standard Webhooks way: the signature
//! (`sign`), which addresses Herald refuses to call (`address`), and the
//! one HTTP client that sends a message (`sender`). What is sent, when and
//! in which order is the outbox's (`store::webhooks`) and the delivery
//! task's (`tasks::webhooks`).
//!
//! Limits of the sender: a message gets [`sender::CONNECT_TIMEOUT`] to
//! connect and [`sender::SEND_TIMEOUT`] in all; no redirect is followed
//! (a 3xx is a failure, retried); the answer's body is never read.

pub mod address;
pub mod sender;
pub mod sign;
