//! The clinic's rows as FHIR R4 resources (JSON): plain functions from the database's row types,
//! no HTTP and no SQL.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::codes::{self, snomed_of};
use super::ids::{ObservationKey, observation_id};
use super::kind::Kind;
use super::search;
use crate::db::adverse_events::AdverseEvent;
use crate::db::check_ins::{CheckIn, ScoreRow};
use crate::db::fhir::{Cohort, ObservationRow};
use crate::db::patients::Patient;
use crate::db::protocols::Protocol;
use crate::db::symptoms::Symptom;
use crate::db::treatments::Treatment;
use crate::domain::symptoms::SymptomKind;

pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn meta(last_updated: DateTime<Utc>) -> Value {
    json!({"lastUpdated": instant(last_updated)})
}

fn reference(kind: &str, id: impl std::fmt::Display) -> Value {
    json!({"reference": format!("{kind}/{id}")})
}

fn coding(system: &str, code: &str, display: Option<&str>) -> Value {
    let mut c = json!({"system": system, "code": code});
    if let Some(d) = display {
        c["display"] = json!(d);
    }
    c
}

/// A patient, identified by the clinic's record number under the clinic's own system.
pub fn patient(clinic: Uuid, p: &Patient) -> Value {
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "meta": meta(p.updated_at),
        "identifier": [{
            "use": "usual",
            "type": {"coding": [coding(codes::V2_IDENTIFIER_TYPE, "MR", Some("Medical record number"))]},
            "system": codes::record_number_system(clinic),
            "value": p.external_ref,
        }],
        "active": true,
    });
    if let Some(name) = &p.display_name {
        r["name"] = json!([{"text": name}]);
    }
    if let Some(year) = p.birth_year {
        r["birthDate"] = json!(format!("{year:04}"));
    }
    if let Some(f) = p.fitzpatrick_type {
        r["extension"] = json!([{"url": codes::EXT_FITZPATRICK, "valueInteger": f}]);
    }
    r
}

/// A treatment session: the protocol's procedure, when, the areas (bodySite), the needle depth and
/// the session number (extensions), and the protocol's cohort (a Group).
pub fn procedure(t: &Treatment, protocol: Option<&Protocol>) -> Value {
    let areas: Vec<Value> = t
        .areas
        .iter()
        .flatten()
        .map(|a| json!({"coding": [coding(codes::AREA, a.as_str(), None)], "text": a.as_str()}))
        .collect();
    let mut code = json!({"text": protocol.map_or("treatment", |p| p.name.as_str())});
    if let Some(p) = protocol {
        code["coding"] = json!([coding(codes::PROCEDURE, p.procedure.as_str(), None)]);
    }
    let mut r = json!({
        "resourceType": "Procedure",
        "id": t.id.to_string(),
        "meta": meta(t.created_at),
        "extension": [
            {"url": codes::EXT_NEEDLE_DEPTH, "valueQuantity": {
                "value": t.needle_depth_mm, "unit": "mm",
                "system": "http://unitsofmeasure.org", "code": "mm"}},
            {"url": codes::EXT_SESSION_NUMBER, "valuePositiveInt": t.session_number.max(1)},
            {"url": codes::EXT_PROTOCOL, "valueReference": reference("Group", t.protocol_id)},
        ],
        "status": "completed",
        "code": code,
        "subject": reference("Patient", t.patient_id),
        "performedDateTime": instant(t.performed_at),
    });
    if !areas.is_empty() {
        r["bodySite"] = json!(areas);
    }
    r
}

/// The questions of a check-in: each symptom of the clinic's catalogue, the aftercare answers, and
/// the note.
pub fn questionnaire(clinic: Uuid, catalogue: &[Symptom]) -> Value {
    let last = catalogue.iter().map(|s| s.created_at).max();
    let mut items: Vec<Value> = catalogue
        .iter()
        .map(|s| {
            let (low, high) = if s.kind == SymptomKind::Presence {
                (0, 1)
            } else {
                (0, 4)
            };
            json!({
                "linkId": s.code,
                "code": [symptom_coding(s)],
                "text": s.label,
                "type": "integer",
                "required": false,
                "extension": [
                    {"url": codes::EXT_MIN_VALUE, "valueInteger": low},
                    {"url": codes::EXT_MAX_VALUE, "valueInteger": high},
                ],
            })
        })
        .collect();
    for (code, text) in codes::AFTERCARE {
        items.push(json!({"linkId": format!("aftercare.{code}"), "text": text, "type": "boolean", "required": false}));
    }
    items.push(json!({"linkId": "note", "text": "Anything else to tell the clinic", "type": "text", "required": false}));
    let mut r = json!({
        "resourceType": "Questionnaire",
        "id": clinic.to_string(),
        "url": codes::questionnaire_url(clinic),
        "name": "AftercareCheckIn",
        "title": "Daily check-in after a skin-needling treatment",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "Severity items: 0 none, 1 mild, 2 moderate, 3 severe, 4 very severe (at its \
            worst today; PRO-CTCAE-derived wording). Presence items: 0 no, 1 yes.",
        "item": items,
    });
    if let Some(last) = last {
        r["meta"] = meta(last);
    }
    r
}

fn symptom_coding(s: &Symptom) -> Value {
    coding(codes::SYMPTOM, &s.code, Some(&s.label))
}

/// The label of a symptom's code in the catalogue, if it is there.
fn label<'a>(catalogue: &'a [Symptom], code: &str) -> Option<&'a str> {
    catalogue
        .iter()
        .find(|s| s.code == code)
        .map(|s| s.label.as_str())
}

/// A check-in: its scores, aftercare answers and note, as answers to the clinic's Questionnaire.
pub fn questionnaire_response(
    clinic: Uuid,
    catalogue: &[Symptom],
    c: &CheckIn,
    scores: &[ScoreRow],
) -> Value {
    let mut items: Vec<Value> = scores
        .iter()
        .map(|s| {
            let mut item = json!({"linkId": s.symptom_code, "answer": [{"valueInteger": s.score}]});
            if let Some(text) = label(catalogue, &s.symptom_code) {
                item["text"] = json!(text);
            }
            item
        })
        .collect();
    let aftercare = [
        ("sunscreen", c.sunscreen),
        ("sun_exposure", c.sun_exposure),
        ("makeup", c.makeup),
        ("exercise", c.exercise),
        ("hot_shower", c.hot_shower),
    ];
    for (code, answer) in aftercare {
        if let Some(answer) = answer {
            items.push(json!({"linkId": format!("aftercare.{code}"), "answer": [{"valueBoolean": answer}]}));
        }
    }
    if let Some(note) = c.note.as_deref().filter(|n| !n.trim().is_empty()) {
        items.push(json!({"linkId": "note", "answer": [{"valueString": note}]}));
    }
    let mut r = json!({
        "resourceType": "QuestionnaireResponse",
        "id": c.id.to_string(),
        "meta": meta(c.received_at),
        "questionnaire": codes::questionnaire_url(clinic),
        "status": "completed",
        "partOf": [reference("Procedure", c.treatment_id)],
        "subject": reference("Patient", c.patient_id),
        "authored": instant(c.recorded_at),
        "source": reference("Patient", c.patient_id),
    });
    if !items.is_empty() {
        r["item"] = json!(items);
    }
    r
}

/// One value of a check-in (a symptom's score) or of an outcome (GAIS, satisfaction, Goodman &
/// Baron), as an Observation.
pub fn observation(catalogue: &[Symptom], o: &ObservationRow) -> Value {
    let id = observation_id(&ObservationKey {
        source: o.source_id,
        code: o.code.clone(),
    });
    let mut r = json!({
        "resourceType": "Observation",
        "id": id,
        "meta": meta(o.last_updated),
        "status": "final",
        "subject": reference("Patient", o.patient_id),
        "focus": [reference("Procedure", o.treatment_id)],
        "valueInteger": o.value,
    });
    match (o.assessor.as_deref(), o.effective_on) {
        (Some(assessor), Some(on)) => {
            let (code, display) = codes::outcome(&o.code);
            // The patient rates their own result (a survey); a clinician examines it.
            let category = if assessor == "patient" {
                "survey"
            } else {
                "exam"
            };
            r["category"] =
                json!([{"coding": [coding(codes::OBSERVATION_CATEGORY, category, None)]}]);
            r["code"] =
                json!({"coding": [coding(codes::OUTCOME, code, Some(display))], "text": display});
            r["effectiveDateTime"] = json!(on.to_string());
            if assessor == "patient" {
                r["performer"] = json!([reference("Patient", o.patient_id)]);
            }
            r["method"] = json!({"coding": [coding(codes::ASSESSOR, assessor, None)]});
        }
        _ => {
            let text = label(catalogue, &o.code).unwrap_or(&o.code);
            let mut codings = vec![coding(codes::SYMPTOM, &o.code, Some(text))];
            if let Some((sct, display)) = snomed_of(&o.code) {
                codings.push(coding(codes::SNOMED, sct, Some(display)));
            }
            r["category"] =
                json!([{"coding": [coding(codes::OBSERVATION_CATEGORY, "survey", None)]}]);
            r["code"] = json!({"coding": codings, "text": text});
            if let Some(at) = o.effective_at {
                r["effectiveDateTime"] = json!(instant(at));
            }
            r["performer"] = json!([reference("Patient", o.patient_id)]);
            r["derivedFrom"] = json!([reference("QuestionnaireResponse", o.source_id)]);
        }
    }
    r
}

/// A complication: its term, CTCAE grade (an extension, and FHIR's three-step severity beside it),
/// seriousness and outcome, suspected to come from the treatment.
pub fn adverse_event(e: &AdverseEvent) -> Value {
    let serious = if e.serious { "serious" } else { "non-serious" };
    let severity = match e.grade {
        1 => "mild",
        2 => "moderate",
        _ => "severe",
    };
    let mut r = json!({
        "resourceType": "AdverseEvent",
        "id": e.id.to_string(),
        "meta": meta(e.updated_at),
        "extension": [{"url": codes::EXT_CTCAE_GRADE, "valueInteger": e.grade}],
        "actuality": "actual",
        "event": {"text": e.term},
        "subject": reference("Patient", e.patient_id),
        "date": e.onset_date.to_string(),
        "recordedDate": instant(e.created_at),
        "seriousness": {"coding": [coding(codes::AE_SERIOUSNESS, serious, None)]},
        "severity": {"coding": [coding(codes::AE_SEVERITY, severity, None)]},
        "suspectEntity": [{"instance": reference("Procedure", e.treatment_id)}],
    });
    if let Some(outcome) = codes::adverse_outcome(e.outcome.as_str()) {
        r["outcome"] = json!({"coding": [coding(codes::AE_OUTCOME, outcome, None)]});
    }
    r
}

/// A protocol's cohort: the patients treated under it, as Bulk Data's Group-level export uses it.
pub fn group(c: &Cohort) -> Value {
    let members: Vec<Value> = c
        .members
        .iter()
        .map(|p| json!({"entity": reference("Patient", p)}))
        .collect();
    let mut r = json!({
        "resourceType": "Group",
        "id": c.protocol.id.to_string(),
        "meta": meta(c.last_updated),
        "type": "person",
        "actual": true,
        "code": {"coding": [coding(codes::PROCEDURE, c.protocol.procedure.as_str(), None)]},
        "name": c.protocol.name,
        "quantity": c.members.len(),
    });
    if !members.is_empty() {
        r["member"] = json!(members);
    }
    r
}

/// What went wrong, as FHIR says it: one issue with a code from FHIR's issue-type list.
pub fn operation_outcome(status: u16, diagnostics: &str) -> Value {
    let code = match status {
        400 | 422 => "invalid",
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 415 => "not-supported",
        409 => "conflict",
        413 => "too-costly",
        429 => "throttled",
        503 => "transient",
        _ => "exception",
    };
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    })
}

/// A page of search results, with the links to itself and to the next page, and how many
/// resources match in all when that is known.
pub fn searchset(
    base: &str,
    entries: Vec<(String, Value)>,
    self_url: &str,
    next: Option<String>,
    total: Option<usize>,
) -> Value {
    let mut links = vec![json!({"relation": "self", "url": self_url})];
    if let Some(next) = next {
        links.push(json!({"relation": "next", "url": next}));
    }
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(path, resource)| {
            json!({"fullUrl": format!("{base}/{path}"), "resource": resource, "search": {"mode": "match"}})
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "id": Uuid::new_v4().to_string(),
        "meta": meta(Utc::now()),
        "type": "searchset",
        "timestamp": instant(Utc::now()),
        "link": links,
        "entry": entries,
    });
    if let Some(total) = total {
        bundle["total"] = json!(total);
    }
    bundle
}

/// What this server serves, for `GET /fhir/R4/metadata`.
pub fn capability_statement(base: &str) -> Value {
    let resources: Vec<Value> = Kind::ALL
        .into_iter()
        .map(|kind| {
            // The same table the searches are parsed by: what is declared is what is supported.
            let params: Vec<Value> = search::supported(kind)
                .iter()
                .map(|p| json!({"name": p.name(), "type": p.kind(), "documentation": p.documentation()}))
                .collect();
            let kind = kind.as_str();
            let mut r = json!({
                "type": kind,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": params,
            });
            let export = match kind {
                "Patient" => Some("patient-export"),
                "Group" => Some("group-export"),
                _ => None,
            };
            if let Some(export) = export {
                r["operation"] = json!([{"name": "export",
                    "definition": format!("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/{export}")}]);
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(Utc::now()),
        "publisher": "Aftercare",
        "kind": "instance",
        "software": {"name": "Aftercare", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {
            "description": "A clinic's recovery data after skin-needling treatments, read-only",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Send Authorization: Bearer with an access token of an admin or a \
                clinician (POST /v1/auth/login), or of a registered system client (SMART Backend \
                Services). Bulk Data export: admins and system clients. Every read is recorded in \
                the clinic's audit trail.",
            "security": {
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": format!("{base}/auth/token")}],
                }],
                "service": [{"coding": [coding(
                    "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "SMART-on-FHIR",
                    None,
                )]}],
            },
            "resource": resources,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symptom(code: &str, kind: &str) -> Symptom {
        Symptom {
            clinic_id: None,
            code: code.into(),
            label: format!("{code} label"),
            kind: SymptomKind::parse(kind).unwrap(),
            position: 1,
            created_at: Utc::now(),
        }
    }

    fn score_row(code: &str, value: i32) -> ObservationRow {
        ObservationRow {
            source_id: Uuid::new_v4(),
            patient_id: Uuid::new_v4(),
            treatment_id: Uuid::new_v4(),
            code: code.into(),
            value,
            effective_at: Some(Utc::now()),
            effective_on: None,
            last_updated: Utc::now(),
            assessor: None,
        }
    }

    #[test]
    fn a_score_with_a_verified_concept_carries_its_snomed_coding_and_one_without_does_not() {
        let catalogue = [
            symptom("redness", "severity"),
            symptom("bruising", "severity"),
        ];
        let redness = observation(&catalogue, &score_row("redness", 2));
        let codings = redness["code"]["coding"].as_array().unwrap();
        assert_eq!(codings.len(), 2);
        assert_eq!(codings[1]["system"], codes::SNOMED);
        assert_eq!(codings[1]["code"], "247441003");
        assert_eq!(redness["category"][0]["coding"][0]["code"], "survey");
        let bruising = observation(&catalogue, &score_row("bruising", 1));
        assert_eq!(bruising["code"]["coding"].as_array().unwrap().len(), 1);
        assert_eq!(bruising["code"]["text"], "bruising label");
    }

    #[test]
    fn an_outcome_rated_by_a_clinician_is_an_exam_and_by_the_patient_a_survey() {
        let mut row = score_row("gais", 2);
        row.effective_on = Some(Utc::now().date_naive());
        row.effective_at = None;
        row.assessor = Some("clinician".into());
        let exam = observation(&[], &row);
        assert_eq!(exam["category"][0]["coding"][0]["code"], "exam");
        assert_eq!(exam["code"]["coding"][0]["code"], "gais");
        assert!(exam.get("performer").is_none());
        row.assessor = Some("patient".into());
        let survey = observation(&[], &row);
        assert_eq!(survey["category"][0]["coding"][0]["code"], "survey");
        assert_eq!(
            survey["performer"][0]["reference"],
            format!("Patient/{}", row.patient_id)
        );
    }

    #[test]
    fn errors_name_fhirs_issue_types() {
        assert_eq!(operation_outcome(404, "x")["issue"][0]["code"], "not-found");
        assert_eq!(operation_outcome(401, "x")["issue"][0]["code"], "login");
        assert_eq!(operation_outcome(400, "x")["issue"][0]["code"], "invalid");
        assert_eq!(operation_outcome(500, "x")["issue"][0]["code"], "exception");
    }

    #[test]
    fn a_grade_3_complication_is_severe_and_a_grade_2_moderate() {
        let mut e = AdverseEvent {
            id: Uuid::new_v4(),
            patient_id: Uuid::new_v4(),
            treatment_id: Uuid::new_v4(),
            term: "infection".into(),
            grade: 3,
            serious: true,
            onset_date: Utc::now().date_naive(),
            outcome: crate::domain::codes::AdverseOutcome::ResolvedWithSequelae,
            notes: None,
            recorded_by: Uuid::new_v4(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let r = adverse_event(&e);
        assert_eq!(r["severity"]["coding"][0]["code"], "severe");
        assert_eq!(r["seriousness"]["coding"][0]["code"], "serious");
        assert_eq!(r["outcome"]["coding"][0]["code"], "resolvedWithSequelae");
        assert_eq!(r["extension"][0]["valueInteger"], 3);
        e.grade = 2;
        e.serious = false;
        let r = adverse_event(&e);
        assert_eq!(r["severity"]["coding"][0]["code"], "moderate");
        assert_eq!(r["seriousness"]["coding"][0]["code"], "non-serious");
    }
}
