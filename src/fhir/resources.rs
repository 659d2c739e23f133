//! The clinic's rows as FHIR R4 resources (JSON): plain functions from the database's row types,
//! no HTTP and no SQL.

use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

use super::codes;
use super::datatypes::{coding, instant, meta, reference};
use super::ids::{ObservationKey, observation_id};
use super::kind::Kind;
use super::questionnaire::{answer_coding, item_coding};
use super::search;
use crate::db::adverse_events::AdverseEvent;
use crate::db::fhir::{Cohort, ObservationRow};
use crate::db::patients::Patient;
use crate::db::protocols::Protocol;
use crate::db::symptoms::Symptom;
use crate::db::treatments::Treatment;
use crate::domain::symptoms::SymptomKind;

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
        .map(|a| {
            let a = a.as_str();
            let ours = codes::concept(codes::AREA, a);
            let mut codings = vec![coding(codes::AREA, a, ours.map(|c| c.en))];
            if let Some((sct, display)) = codes::snomed_area(a) {
                codings.push(coding(codes::SNOMED, sct, Some(display)));
            }
            json!({"coding": codings, "text": ours.map_or(a, |c| c.en)})
        })
        .collect();
    let mut code = json!({"text": protocol.map_or("treatment", |p| p.name.as_str())});
    if let Some(p) = protocol {
        code["coding"] = json!([procedure_coding(p)]);
    }
    let mut r = json!({
        "resourceType": "Procedure",
        "id": t.id.to_string(),
        "meta": meta(t.created_at),
        "extension": [
            {"url": codes::EXT_NEEDLE_DEPTH, "valueQuantity": {
                "value": t.needle_depth_mm, "unit": "mm",
                "system": codes::UCUM, "code": "mm"}},
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

fn procedure_coding(p: &Protocol) -> Value {
    let code = p.procedure.as_str();
    let display = codes::concept(codes::PROCEDURE, code).map(|c| c.en);
    coding(codes::PROCEDURE, code, display)
}

/// One value of a check-in (a symptom's answer, as FHIR models a survey's) or of an outcome (GAIS,
/// satisfaction, Goodman & Baron), as an Observation, part of the treatment it follows.
pub fn observation(catalogue: &[Symptom], o: &ObservationRow) -> Value {
    let id = observation_id(&ObservationKey {
        source: o.source_id,
        code: o.code.clone(),
    });
    let mut r = json!({
        "resourceType": "Observation",
        "id": id,
        "meta": meta(o.last_updated),
        // An outcome corrected in place is amended; a check-in is never changed.
        "status": if o.amended { "amended" } else { "final" },
        "partOf": [reference("Procedure", o.treatment_id)],
        "subject": reference("Patient", o.patient_id),
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
            let who = codes::concept(codes::ASSESSOR, assessor).map(|c| c.en);
            r["method"] = json!({"coding": [coding(codes::ASSESSOR, assessor, who)]});
            r["valueInteger"] = json!(o.value);
        }
        _ => {
            let item = catalogue.iter().find(|s| s.code == o.code);
            let (item_code, text) = match item {
                Some(s) => (item_coding(s), s.label.as_str()),
                None => (coding(codes::SYMPTOM, &o.code, None), o.code.as_str()),
            };
            r["category"] =
                json!([{"coding": [coding(codes::OBSERVATION_CATEGORY, "survey", None)]}]);
            r["code"] = json!({"coding": [item_code], "text": text});
            let kind = item.map_or(SymptomKind::Severity, |s| s.kind);
            match answer_coding(kind, o.value) {
                Some(answer) => {
                    let words = answer["display"].clone();
                    r["valueCodeableConcept"] = json!({"coding": [answer], "text": words});
                }
                None => r["valueInteger"] = json!(o.value),
            }
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
        "code": {"coding": [procedure_coding(&c.protocol)]},
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
        .chain(["CodeSystem", "ValueSet"].map(|kind| {
            let mut r = json!({
                "type": kind,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [{"name": "url", "type": "uri", "documentation": "The canonical URL"}],
            });
            if kind == "CodeSystem" {
                r["operation"] = json!([
                    {"name": "lookup", "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"},
                    {"name": "validate-code", "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code"},
                ]);
            }
            r
        }))
        .chain(std::iter::once(json!({
            "type": "Binary",
            "interaction": [{"code": "read"}],
            "documentation": "A photo's bytes, which its Media's content.url names: the image \
                itself (image/jpeg) unless the request's Accept asks for application/fhir+json, \
                then a Binary resource with the bytes in base64",
        })))
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
                clinician (POST /v1/auth/login), of a registered system client (SMART Backend \
                Services), or of a registered app (SMART App Launch). Bulk Data export: admins \
                and system clients. Every read is recorded in the clinic's audit trail.",
            "security": {
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "token", "valueUri": format!("{base}/auth/token")},
                        {"url": "authorize", "valueUri": format!("{base}/auth/authorize")},
                    ],
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
    use crate::domain::ids::{AdverseEventId, PatientId, TreatmentId};

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
            patient_id: PatientId::new_v4(),
            treatment_id: TreatmentId::new_v4(),
            code: code.into(),
            value,
            effective_at: Some(Utc::now()),
            effective_on: None,
            last_updated: Utc::now(),
            assessor: None,
            amended: false,
        }
    }

    #[test]
    fn a_score_is_a_survey_answer_coded_from_the_scale_with_its_grade() {
        let catalogue = [symptom("redness", "severity"), symptom("fever", "presence")];
        let redness = observation(&catalogue, &score_row("redness", 2));
        let codings = redness["code"]["coding"].as_array().unwrap();
        assert_eq!(codings.len(), 1);
        assert_eq!(codings[0]["system"], codes::SYMPTOM);
        assert_eq!(redness["category"][0]["coding"][0]["code"], "survey");
        let value = &redness["valueCodeableConcept"]["coding"][0];
        assert_eq!(value["system"], codes::ANSWER);
        assert_eq!(value["code"], "moderate");
        assert_eq!(value["extension"][0]["url"], codes::EXT_ORDINAL_VALUE);
        assert_eq!(value["extension"][0]["valueDecimal"], 2);
        assert!(redness.get("valueInteger").is_none() && redness.get("focus").is_none());
        assert!(
            redness["partOf"][0]["reference"]
                .as_str()
                .unwrap()
                .starts_with("Procedure/")
        );
        let fever = observation(&catalogue, &score_row("fever", 0));
        assert_eq!(fever["valueCodeableConcept"]["coding"][0]["code"], "no");
        assert_eq!(fever["status"], "final");
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
        row.amended = true;
        let survey = observation(&[], &row);
        assert_eq!(survey["status"], "amended");
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
            id: AdverseEventId::new_v4(),
            patient_id: PatientId::new_v4(),
            treatment_id: TreatmentId::new_v4(),
            term: "infection".into(),
            grade: 3,
            serious: true,
            onset_date: Utc::now().date_naive(),
            outcome: crate::domain::codes::AdverseOutcome::ResolvedWithSequelae,
            notes: None,
            recorded_by: crate::domain::ids::StaffId::new_v4(),
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
