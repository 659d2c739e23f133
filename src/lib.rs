//! Aftercare: follow patients' recovery after skin-needling treatments.

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod domain;
pub mod error;
pub mod fhir;
pub mod http;
pub mod limits;
pub mod local;
pub mod metrics;
pub mod read_model;
pub mod services;
pub mod sessions;
pub mod startup;
pub mod workers;
