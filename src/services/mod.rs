//! Writes that span several tables and rules, below the HTTP layer: called by the handlers and the
//! background workers alike.

pub mod accounts;
pub mod adverse_events;
pub mod alerts;
pub mod check_ins;
mod error;
pub mod patient_data;
pub mod photo_store;
pub mod photos;
pub mod sign_in;
pub mod smart;
pub mod staff;
pub mod webhooks;

pub use error::Error;
