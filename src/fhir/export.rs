//! FHIR Bulk Data export (the Bulk Data Access IG, v2): what a kick-off asks for, and the manifest
//! of a finished export. Plain functions; the jobs run in `workers::fhir_export`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use uuid::Uuid;

use super::datatypes::instant;
use super::kind::Kind;
use super::search::{self, Handling, Search};

/// The types an export holds unless `_type` names fewer: a patient's data (the Patient
/// compartment).
/// A photo's Media is exported, its bytes stay a `Binary` read by URL.
pub const EXPORTED: [Kind; 6] = [
    Kind::Patient,
    Kind::Procedure,
    Kind::QuestionnaireResponse,
    Kind::Observation,
    Kind::AdverseEvent,
    Kind::Media,
];

/// How many resources go into one ndjson file.
pub const FILE_SIZE: i64 = 1000;

/// How long an export's files are kept, from its kick-off.
pub const KEPT: chrono::Duration = chrono::Duration::hours(24);

/// What a kick-off asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct KickOff {
    pub types: Vec<Kind>,
    pub since: Option<DateTime<Utc>>,
    /// `_typeFilter`: a search per type, as given (`Observation?code=...`); at most one a type.
    pub type_filters: Vec<String>,
    /// `patient`: only these patients' data; `None`, every patient's.
    pub patients: Option<Vec<Uuid>>,
}

/// Splits a `_typeFilter` value into its type and its search's query pairs.
fn type_filter(value: &str) -> Result<(Kind, Vec<(String, String)>), String> {
    let (kind, query) = value.split_once('?').unwrap_or((value, ""));
    let kind = Kind::parse(kind)
        .filter(|k| EXPORTED.contains(k))
        .ok_or_else(|| {
            format!("_typeFilter: '{value}' does not start with an exported type and '?'")
        })?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if pairs.is_empty() {
        return Err(format!("_typeFilter: '{value}' has no search parameters"));
    }
    if let Some((name, _)) = pairs
        .iter()
        .find(|(n, _)| ["_count", "_cursor", "_offset"].contains(&n.as_str()))
    {
        return Err(format!("_typeFilter: {name} has no meaning in an export"));
    }
    Ok((kind, pairs))
}

/// The search that the `_typeFilter`s of an export ask of `kind` in the clinic, if any.
pub fn type_search(
    kind: Kind,
    clinic: Uuid,
    type_filters: &[String],
) -> Result<Option<Search>, String> {
    for value in type_filters {
        let (k, pairs) = type_filter(value)?;
        if k == kind {
            return search::parse(kind, clinic, &pairs, Handling::Strict).map(Some);
        }
    }
    Ok(None)
}

/// Parses a kick-off's `Prefer` header and query pairs: `respond-async` is required; `_type` (a
/// comma-separated list, or repeated) among [`EXPORTED`]; `_since` an instant; `_outputFormat` ndjson
/// in any of its spellings; `_typeFilter` a search of one type (one a type, of a type exported);
/// `patient` patient references (comma-separated, or repeated). Any other parameter
/// (`_elements`, `includeAssociatedData`, ...) is an error unless `Prefer` holds
/// `handling=lenient`, which ignores it.
pub fn kick_off(prefer: Option<&str>, pairs: &[(String, String)]) -> Result<KickOff, String> {
    let asynchronous = prefer.is_some_and(|p| {
        p.split(',')
            .any(|v| v.trim().eq_ignore_ascii_case("respond-async"))
    });
    if !asynchronous {
        return Err("an export runs in the background: send Prefer: respond-async".into());
    }
    let lenient = Handling::from_prefer(prefer) == Handling::Lenient;
    let mut types = vec![];
    let mut since = None;
    let mut type_filters: Vec<String> = vec![];
    let mut filtered: Vec<Kind> = vec![];
    let mut patients: Option<Vec<Uuid>> = None;
    for (name, value) in pairs {
        match name.as_str() {
            "_type" => {
                for t in value.split(',').map(str::trim) {
                    let kind = Kind::parse(t)
                        .filter(|k| EXPORTED.contains(k))
                        .ok_or_else(|| format!("_type: {t} is not exported (Patient, Procedure, QuestionnaireResponse, Observation, AdverseEvent, Media)"))?;
                    if !types.contains(&kind) {
                        types.push(kind);
                    }
                }
            }
            "_since" => {
                let t = DateTime::parse_from_rfc3339(value)
                    .map_err(|_| format!("_since: '{value}' is not an instant with its offset"))?;
                since = Some(t.with_timezone(&Utc));
            }
            "_outputFormat" => {
                let ndjson = ["application/fhir+ndjson", "application/ndjson", "ndjson"];
                if !ndjson.contains(&value.as_str()) {
                    return Err(format!(
                        "_outputFormat: only ndjson is served, not '{value}'"
                    ));
                }
            }
            "_typeFilter" => {
                let (kind, pairs) = type_filter(value)?;
                if filtered.contains(&kind) {
                    return Err(format!(
                        "_typeFilter: one filter per type is supported; {} has two",
                        kind.as_str()
                    ));
                }
                // Checked now, with a clinic of none: the worker parses it again for the clinic.
                search::parse(kind, Uuid::nil(), &pairs, Handling::Strict)
                    .map_err(|e| format!("_typeFilter {value}: {e}"))?;
                filtered.push(kind);
                type_filters.push(value.clone());
            }
            "patient" => {
                let list = patients.get_or_insert_with(Vec::new);
                for v in value.split(',').map(str::trim) {
                    let id = search::patient_reference(v)
                        .ok_or_else(|| format!("patient: '{v}' is not a Patient reference"))?;
                    if !list.contains(&id) {
                        list.push(id);
                    }
                }
            }
            _ if lenient => {}
            _ => {
                return Err(format!(
                    "{name}: not supported by this server's export (it supports _type, _since, \
                     _outputFormat, _typeFilter and patient); send Prefer: handling=lenient to \
                     have it ignored"
                ));
            }
        }
    }
    if types.is_empty() {
        types = EXPORTED.to_vec();
    }
    if let Some(kind) = filtered.iter().find(|k| !types.contains(k)) {
        return Err(format!(
            "_typeFilter: {} is not among the types asked for",
            kind.as_str()
        ));
    }
    Ok(KickOff {
        types,
        since,
        type_filters,
        patients,
    })
}

/// The FHIR base of a kick-off's URL (`{public URL}/fhir/R4/Patient/$export?...`).
pub fn base_of(request: &str) -> String {
    let public = request.split(super::BASE).next().unwrap_or_default();
    format!("{public}{}", super::BASE)
}

/// One file of a finished export.
pub struct OutputFile {
    pub kind: String,
    pub url: String,
    pub count: i32,
}

/// The manifest of a finished export.
pub fn manifest(transaction_time: DateTime<Utc>, request: &str, files: &[OutputFile]) -> Value {
    let output: Vec<Value> = files
        .iter()
        .map(|f| json!({"type": f.kind, "url": f.url, "count": f.count}))
        .collect();
    json!({
        "transactionTime": instant(transaction_time),
        "request": request,
        "requiresAccessToken": true,
        "output": output,
        "error": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_base_is_read_off_the_kick_off() {
        let url = "https://clinic.test/fhir/R4/Group/1/$export?_type=Media";
        assert_eq!(base_of(url), "https://clinic.test/fhir/R4");
    }

    #[test]
    fn a_kick_off_needs_respond_async() {
        assert!(kick_off(None, &[]).is_err());
        assert!(kick_off(Some("return=minimal"), &[]).is_err());
        let k = kick_off(Some("respond-async"), &[]).unwrap();
        assert_eq!(k.types, EXPORTED.to_vec());
        assert_eq!(k.since, None);
    }

    #[test]
    fn types_since_and_the_output_format_are_read() {
        let k = kick_off(
            Some("respond-async"),
            &pairs(&[
                ("_type", "Observation,Patient"),
                ("_type", "Observation"),
                ("_since", "2026-11-20T10:00:00+01:00"),
                ("_outputFormat", "application/fhir+ndjson"),
            ]),
        )
        .unwrap();
        assert_eq!(k.types, vec![Kind::Observation, Kind::Patient]);
        assert_eq!(k.since.unwrap().to_rfc3339(), "2026-11-20T09:00:00+00:00");
        for format in ["ndjson", "application/ndjson"] {
            assert!(kick_off(Some("respond-async"), &pairs(&[("_outputFormat", format)])).is_ok());
        }
    }

    #[test]
    fn what_is_not_exported_is_refused() {
        let refused = |p: &[(&str, &str)]| kick_off(Some("respond-async"), &pairs(p)).is_err();
        assert!(refused(&[("_type", "Questionnaire")]));
        assert!(refused(&[("_type", "Medication")]));
        assert!(refused(&[("_since", "2026-11-20")]));
        assert!(refused(&[("_outputFormat", "application/fhir+json")]));
        assert!(refused(&[("_elements", "id")]));
        assert!(refused(&[(
            "includeAssociatedData",
            "LatestProvenanceResources"
        )]));
        assert!(refused(&[("_typeFilter", "Observation?nonsense=1")]));
        assert!(refused(&[("_typeFilter", "Medication?code=1")]));
        assert!(refused(&[("patient", "Group/1")]));
        let lenient = kick_off(
            Some("respond-async, handling=lenient"),
            &pairs(&[("_elements", "id")]),
        );
        assert!(lenient.is_ok());
    }
}
