//! Background loops a running server needs besides answering requests,
//! each on the one `periodic` helper.

pub(crate) mod console_pulse;
pub(crate) mod escalation;
pub(crate) mod funnel_flush;
pub(crate) mod linger;
pub(crate) mod pinger;
pub(crate) mod scheduler;
pub(crate) mod snoozes;
pub(crate) mod sweeper;
pub(crate) mod webhooks;
