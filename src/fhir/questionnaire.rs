//! The check-in as FHIR asks it and answers it: the clinic's Questionnaire, a version for each
//! change to its items, and each check-in as a QuestionnaireResponse naming the version it
//! answered. Plain functions from the database's rows.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::codes::{self, Concept};
use super::datatypes::{coding, instant, reference};
use crate::db::check_ins::{CheckIn, ScoreRow};
use crate::db::symptoms::Symptom;
use crate::domain::symptoms::SymptomKind;

/// When each version of the clinic's items began, oldest first: the catalogue changes only by
/// items added (the defaults at once, then the clinic's one by one), so version `n` holds the
/// items that existed at the `n`-th of these times.
pub fn versions(catalogue: &[Symptom]) -> Vec<DateTime<Utc>> {
    let mut times: Vec<DateTime<Utc>> = catalogue.iter().map(|s| s.created_at).collect();
    times.sort();
    times.dedup();
    times
}

/// The version (from 1) that was current at `t`.
pub fn version_at(catalogue: &[Symptom], t: DateTime<Utc>) -> usize {
    versions(catalogue)
        .iter()
        .filter(|v| **v <= t)
        .count()
        .max(1)
}

/// The id of a version's Questionnaire.
pub fn questionnaire_id(clinic: Uuid, version: usize) -> String {
    format!("{clinic}-{version}")
}

/// The clinic and version a Questionnaire id names.
pub fn parse_questionnaire_id(id: &str) -> Option<(Uuid, usize)> {
    let (clinic, version) = id.rsplit_once('-')?;
    if version.starts_with('0') {
        return None;
    }
    Some((clinic.parse().ok()?, version.parse().ok()?))
}

/// The system of an item's code: ours for a default, the clinic's for its own.
pub fn item_system(s: &Symptom) -> String {
    s.clinic_id
        .map_or_else(|| codes::SYMPTOM.to_string(), codes::clinic_items)
}

/// An item's coding, in its system.
pub fn item_coding(s: &Symptom) -> Value {
    coding(&item_system(s), &s.code, Some(&s.label))
}

/// A grade of an item as a coding of the answer scale, the grade kept as its ordinal value.
pub fn answer_coding(kind: SymptomKind, grade: i32) -> Option<Value> {
    let a: &Concept = codes::answer(kind == SymptomKind::Presence, grade)?;
    let mut c = coding(codes::ANSWER, a.code, Some(a.en));
    c["extension"] = json!([{"url": codes::EXT_ORDINAL_VALUE, "valueDecimal": grade}]);
    Some(c)
}

/// `text` with its German translation, as the `_text` beside it says it.
fn translated(item: &mut Value, en: &str, de: Option<&str>) {
    item["text"] = json!(en);
    if let Some(de) = de {
        item["_text"] = json!({"extension": [{"url": codes::EXT_TRANSLATION, "extension": [
            {"url": "lang", "valueCode": "de"},
            {"url": "content", "valueString": de},
        ]}]});
    }
}

fn german(s: &Symptom) -> Option<&'static str> {
    let default = codes::SYMPTOMS.iter().find(|c| c.code == s.code);
    default.filter(|_| s.clinic_id.is_none()).map(|c| c.de)
}

/// Version `version` of the clinic's check-in: each symptom item that existed then (answered from
/// the answer scale), the aftercare questions and the note. Older versions are retired.
pub fn questionnaire(clinic: Uuid, catalogue: &[Symptom], version: usize) -> Option<Value> {
    let times = versions(catalogue);
    let began = *times.get(version.checked_sub(1)?)?;
    let superseded = times.get(version).copied();
    let mut items: Vec<Value> = catalogue
        .iter()
        .filter(|s| s.created_at <= began)
        .map(|s| {
            let options: Vec<Value> = (0..=i32::from(s.kind.max()))
                .filter_map(|g| answer_coding(s.kind, g))
                .map(|c| json!({"valueCoding": c}))
                .collect();
            let mut item = json!({
                "linkId": s.code,
                "code": [item_coding(s)],
                "type": "choice",
                "required": false,
                "answerOption": options,
            });
            translated(&mut item, &s.label, german(s));
            item
        })
        .collect();
    for q in codes::AFTERCARE {
        let mut item = json!({
            "linkId": format!("aftercare.{}", q.code),
            "code": [coding(codes::AFTERCARE_QUESTION, q.code, Some(q.en))],
            "type": "boolean",
            "required": false,
        });
        translated(&mut item, q.en, Some(q.de));
        items.push(item);
    }
    let mut note = json!({"linkId": "note", "type": "text", "required": false});
    translated(&mut note, codes::NOTE.0, Some(codes::NOTE.1));
    items.push(note);
    let status = if superseded.is_some() {
        "retired"
    } else {
        "active"
    };
    Some(json!({
        "resourceType": "Questionnaire",
        "id": questionnaire_id(clinic, version),
        "meta": {"lastUpdated": instant(superseded.unwrap_or(began))},
        "language": "en",
        "url": codes::questionnaire_url(clinic),
        "version": version.to_string(),
        "name": "AftercareCheckIn",
        "title": "Daily check-in after a skin-needling treatment",
        "status": status,
        "subjectType": ["Patient"],
        "date": instant(began),
        "description": "Each symptom at its worst today, answered from the answer scale: none, \
            mild, moderate, severe, very severe (grades 0-4; PRO-CTCAE-inspired wording), or no, \
            yes (0, 1); then the aftercare questions and a note.",
        "item": items,
    }))
}

/// A check-in: its scores (coded answers), aftercare answers and note, answering the version of
/// the clinic's Questionnaire that was current when the check-in arrived.
pub fn questionnaire_response(
    clinic: Uuid,
    catalogue: &[Symptom],
    c: &CheckIn,
    scores: &[ScoreRow],
) -> Value {
    let mut items: Vec<Value> = scores
        .iter()
        .map(|s| {
            let item = catalogue.iter().find(|i| i.code == s.symptom_code);
            let kind = item.map_or(SymptomKind::Severity, |i| i.kind);
            let answer = answer_coding(kind, i32::from(s.score)).map_or_else(
                || json!({"valueInteger": s.score}),
                |c| json!({"valueCoding": c}),
            );
            let mut out = json!({"linkId": s.symptom_code, "answer": [answer]});
            if let Some(i) = item {
                out["text"] = json!(i.label);
            }
            out
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
    let version = version_at(catalogue, c.received_at);
    let mut r = json!({
        "resourceType": "QuestionnaireResponse",
        "id": c.id.to_string(),
        "meta": {"lastUpdated": instant(c.received_at)},
        "questionnaire": format!("{}|{version}", codes::questionnaire_url(clinic)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn item(code: &str, clinic: Option<Uuid>, at: DateTime<Utc>) -> Symptom {
        Symptom {
            clinic_id: clinic,
            code: code.into(),
            label: format!("{code} label"),
            kind: SymptomKind::Severity,
            position: 1,
            created_at: at,
        }
    }

    #[test]
    fn each_added_item_is_a_new_version_and_older_ones_are_retired() {
        let clinic = Uuid::new_v4();
        let t0 = Utc::now() - Duration::days(10);
        let catalogue = [
            item("redness", None, t0),
            item("swelling", None, t0),
            item("tightness", Some(clinic), t0 + Duration::days(5)),
        ];
        assert_eq!(versions(&catalogue).len(), 2);
        assert_eq!(version_at(&catalogue, t0 + Duration::days(1)), 1);
        assert_eq!(version_at(&catalogue, t0 + Duration::days(6)), 2);
        let v1 = questionnaire(clinic, &catalogue, 1).unwrap();
        let v2 = questionnaire(clinic, &catalogue, 2).unwrap();
        assert_eq!(v1["status"], "retired");
        assert_eq!(v2["status"], "active");
        assert_eq!(v1["item"].as_array().unwrap().len(), 2 + 5 + 1);
        assert_eq!(
            v2["item"][2]["code"][0]["system"],
            codes::clinic_items(clinic)
        );
        assert_eq!(
            v2["item"][0]["_text"]["extension"][0]["extension"][1]["valueString"],
            "Rötung der behandelten Haut"
        );
        assert!(v2["item"][2].get("_text").is_none());
        assert_eq!(
            v2["item"][0]["answerOption"][4]["valueCoding"]["code"],
            "very-severe"
        );
        assert!(questionnaire(clinic, &catalogue, 3).is_none());
        assert!(questionnaire(clinic, &catalogue, 0).is_none());
    }

    #[test]
    fn questionnaire_ids_name_the_clinic_and_the_version() {
        let clinic = Uuid::new_v4();
        assert_eq!(
            parse_questionnaire_id(&questionnaire_id(clinic, 12)),
            Some((clinic, 12))
        );
        assert_eq!(parse_questionnaire_id(&clinic.to_string()), None);
        assert_eq!(parse_questionnaire_id(&format!("{clinic}-0")), None);
        assert_eq!(parse_questionnaire_id(&format!("{clinic}-01")), None);
        assert_eq!(parse_questionnaire_id(&format!("{clinic}-x")), None);
    }

    #[test]
    fn grades_are_coded_answers_with_their_ordinal_value() {
        let yes = answer_coding(SymptomKind::Presence, 1).unwrap();
        assert_eq!(yes["code"], "yes");
        assert_eq!(yes["extension"][0]["valueDecimal"], 1);
        assert!(answer_coding(SymptomKind::Presence, 2).is_none());
    }
}
