//! The recovery read model: every treatment's daily scores held in memory and kept exact from the
//! database's change tracking (`store`), and the views assembled from it (`views`).

pub mod due;
pub mod patient_list;
mod segments;
pub mod store;
pub mod views;

pub use store::*;
