//! The kit for running Aftercare locally: a PostgreSQL of its own, the demo clinic, and the
//! synthetic recoveries behind the demo, the benchmark and the alert precision harness.

pub mod demo;
pub mod demo_photos;
pub mod postgres;
pub mod synthetic;
