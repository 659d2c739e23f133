//! Aftercare: follow patients' recovery after skin-needling treatments.

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod fhir;
pub mod local;
pub mod read_model;
pub mod services;
pub mod startup;
pub mod web;
pub mod workers;
