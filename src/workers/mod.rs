//! What the server does on its own, beside the API: the silence job (patients who went quiet, and `slower_than_peers` kept to the cohort), the reminders job,
//! sealing the audit trail, delivering webhooks and Web Push messages, and running FHIR Bulk Data
//! exports.

pub mod audit_sealing;
pub mod fhir_export;
pub mod peers;
pub mod push_delivery;
pub mod reminders;
pub mod silence;
pub mod webhook_delivery;
