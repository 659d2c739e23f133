//! FHIR's general-purpose data types as JSON: an instant, a resource's meta, a reference, a coding.
//! Every resource builder uses them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn meta(last_updated: DateTime<Utc>) -> Value {
    json!({"lastUpdated": instant(last_updated)})
}

pub fn reference(kind: &str, id: impl std::fmt::Display) -> Value {
    json!({"reference": format!("{kind}/{id}")})
}

pub fn coding(system: &str, code: &str, display: Option<&str>) -> Value {
    let mut c = json!({"system": system, "code": code});
    if let Some(d) = display {
        c["display"] = json!(d);
    }
    c
}
