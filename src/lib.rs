//! Aftercare: follow patients' recovery after skin-needling treatments.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod recovery;
pub mod startup;
pub mod webhooks;
