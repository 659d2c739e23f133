//! Writes that span several tables and rules, below the HTTP layer: called by the handlers and the
//! background workers alike.

pub mod alerts;
pub mod check_ins;
