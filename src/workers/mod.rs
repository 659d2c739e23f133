//! What the server does on its own, beside the API: the missed check-ins job, the reminders job,
//! sealing the audit trail, delivering webhooks and Web Push messages, and running FHIR Bulk Data
//! exports.

pub mod audit_sealing;
pub mod fhir_export;
pub mod missed_check_ins;
pub mod push_delivery;
pub mod reminders;
pub mod webhook_delivery;
