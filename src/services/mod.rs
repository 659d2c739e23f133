//! Every write with side effects, one function per use case, below the HTTP layer: called by the
//! handlers, the command line and the background workers alike.

pub mod accounts;
pub mod adverse_events;
pub mod alerts;
pub mod audit;
pub mod check_ins;
pub mod clinic;
mod error;
pub mod exports;
pub mod fhir_clients;
pub mod outcomes;
pub mod patient_data;
pub mod patients;
pub mod photo_store;
pub mod photos;
pub mod protocols;
pub mod push;
pub mod sign_in;
pub mod smart;
pub mod staff;
pub mod symptoms;
pub mod treatments;
pub mod webhooks;
pub mod worklist;

pub use error::Error;
