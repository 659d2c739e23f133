//! The plumbing between HTTP and the layers: who is calling (tokens, sessions) and the limits on
//! the ways in, what every request and response gets, metrics, and the two front ends built into
//! the binary (the patients' app and the clinicians' dashboard) with the files they are served from.

pub mod app;
pub mod assets;
pub mod auth;
pub mod client_addr;
pub mod dashboard;
pub mod http;
pub mod limits;
pub mod metrics;
