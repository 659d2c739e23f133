//! What the server does on its own, beside the API: the missed check-ins job, sealing the audit
//! trail, and delivering webhooks.

pub mod audit_sealing;
pub mod missed_check_ins;
pub mod webhook_delivery;
