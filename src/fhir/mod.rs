//! Aftercare's data as FHIR R4: the resources (plain mapping functions from the database's rows),
//! the search parameters, and the loading of a type's resources a page at a time, for the HTTP
//! handlers in `api::fhir`.

pub mod codes;
pub mod datatypes;
pub mod export;
pub mod fetch;
pub mod ids;
pub mod kind;
pub mod media;
pub mod questionnaire;
pub mod resources;
pub mod search;
pub mod smart;
pub mod terminology;

/// Where the FHIR API lives.
pub const BASE: &str = "/fhir/R4";

/// The media type of FHIR's JSON.
pub const JSON: &str = "application/fhir+json";
