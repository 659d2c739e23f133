//! Integration tests: the real server over HTTP, against a real PostgreSQL, each test with its own database.

mod alerts;
mod audit;
mod auth;
mod authorization;
mod check_ins;
mod dashboard;
mod demo;
mod errors;
mod failover;
mod faults;
mod hardening;
mod helpers;
mod instances;
mod migrations;
mod openapi;
mod outcomes;
mod patients;
mod protocols;
mod recovery;
mod restore;
mod shutdown;
mod staff;
mod statements;
mod symptoms;
mod treatments;
mod webhooks;
