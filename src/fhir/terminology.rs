//! Aftercare's code systems as FHIR publishes them: a CodeSystem and a ValueSet (all its codes)
//! for each of our fixed systems and for a clinic's own items, and `$lookup` and `$validate-code`
//! over them. Plain functions, no HTTP and no SQL.

use serde_json::{Value, json};
use uuid::Uuid;

use super::codes::{self, Concept, System};
use crate::db::symptoms::Symptom;

/// When our fixed systems' current content was published (a change to a concept changes it).
const PUBLISHED: &str = "2026-12-07";

/// A code system as this server publishes it: ours, or a clinic's own items.
#[derive(Debug, Clone)]
pub struct Published {
    pub id: String,
    pub url: String,
    pub title: String,
    pub description: String,
    /// Code, English, German (none for a clinic's own words), grade.
    pub concepts: Vec<(String, String, Option<String>, Option<i32>)>,
}

impl Published {
    fn fixed(s: &System) -> Published {
        let concepts = s
            .concepts
            .iter()
            .map(|c: &Concept| (c.code.into(), c.en.into(), Some(c.de.into()), c.ordinal))
            .collect();
        Published {
            id: s.id.into(),
            url: s.url.into(),
            title: s.title.into(),
            description: s.description.into(),
            concepts,
        }
    }

    fn clinic(clinic: Uuid, catalogue: &[Symptom]) -> Published {
        let concepts = catalogue
            .iter()
            .filter(|s| s.clinic_id.is_some())
            .map(|s| (s.code.clone(), s.label.clone(), None, None))
            .collect();
        Published {
            id: codes::clinic_items_id(clinic),
            url: codes::clinic_items(clinic),
            title: "The clinic's own symptom items".into(),
            description: "Items a clinic added to the daily check-in, each rated on the answer \
                scale (its severity or presence part)"
                .into(),
            concepts,
        }
    }

    fn find(&self, code: &str) -> Option<&(String, String, Option<String>, Option<i32>)> {
        self.concepts.iter().find(|c| c.0 == code)
    }
}

/// Every code system a clinic's readers see: ours, then the clinic's own items.
pub fn published(clinic: Uuid, catalogue: &[Symptom]) -> Vec<Published> {
    let mut all: Vec<Published> = codes::SYSTEMS.iter().map(Published::fixed).collect();
    all.push(Published::clinic(clinic, catalogue));
    all
}

fn version(p: &Published) -> String {
    // A clinic's system changes with each item it adds: its version counts them.
    if codes::clinic_of_items(&p.url).is_some() {
        p.concepts.len().to_string()
    } else {
        PUBLISHED.into()
    }
}

pub fn code_system(p: &Published) -> Value {
    let concepts: Vec<Value> = p
        .concepts
        .iter()
        .map(|(code, en, de, grade)| {
            let mut c = json!({"code": code, "display": en});
            if let Some(de) = de {
                c["designation"] = json!([{"language": "de", "value": de}]);
            }
            if let Some(grade) = grade {
                c["property"] = json!([{"code": "grade", "valueInteger": grade}]);
            }
            c
        })
        .collect();
    let mut r = json!({
        "resourceType": "CodeSystem",
        "id": p.id,
        "url": p.url,
        "version": version(p),
        "name": name(&p.title),
        "title": p.title,
        "status": "active",
        "experimental": false,
        "publisher": "Aftercare",
        "description": p.description,
        "caseSensitive": true,
        "valueSet": value_set_url(p),
        "content": "complete",
        "count": p.concepts.len(),
        "language": "en",
    });
    if p.concepts.iter().any(|c| c.3.is_some()) {
        r["property"] = json!([{"code": "grade", "description":
            "The answer's grade: 0-4 for severity, 0-1 for presence", "type": "integer"}]);
    }
    if !concepts.is_empty() {
        r["concept"] = json!(concepts);
    }
    r
}

/// All the codes of one code system.
pub fn value_set(p: &Published) -> Value {
    json!({
        "resourceType": "ValueSet",
        "id": p.id,
        "url": value_set_url(p),
        "version": version(p),
        "name": name(&p.title),
        "title": p.title,
        "status": "active",
        "experimental": false,
        "publisher": "Aftercare",
        "description": format!("All the codes of {}", p.url),
        "compose": {"include": [{"system": p.url}]},
    })
}

fn value_set_url(p: &Published) -> String {
    p.url.replacen("/CodeSystem/", "/ValueSet/", 1)
}

/// A computer-friendly name: the title's words, capitalised and run together.
fn name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or(String::new(), |f| {
                f.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// `$lookup`: the concept's display and German designation, as a Parameters resource; none when
/// the system or the code is not one of these.
pub fn lookup(all: &[Published], system: &str, code: &str) -> Option<Value> {
    let p = all.iter().find(|p| p.url == system)?;
    let (_, en, de, grade) = p.find(code)?;
    let mut params = vec![
        json!({"name": "name", "valueString": p.title}),
        json!({"name": "version", "valueString": version(p)}),
        json!({"name": "display", "valueString": en}),
    ];
    if let Some(de) = de {
        params.push(json!({"name": "designation", "part": [
            {"name": "language", "valueCode": "de"},
            {"name": "value", "valueString": de},
        ]}));
    }
    if let Some(grade) = grade {
        params.push(json!({"name": "property", "part": [
            {"name": "code", "valueCode": "grade"},
            {"name": "value", "valueInteger": grade},
        ]}));
    }
    Some(json!({"resourceType": "Parameters", "parameter": params}))
}

/// `$validate-code`: whether `code` is in the code system (or its ValueSet) at `url`, and, given a
/// display, whether that is the concept's display in either language.
pub fn validate_code(all: &[Published], url: &str, code: &str, display: Option<&str>) -> Value {
    let p = all.iter().find(|p| p.url == url || value_set_url(p) == url);
    let (result, message) = match p.map(|p| (p, p.find(code))) {
        None => (
            false,
            format!("{url} is not a code system or value set of this server"),
        ),
        Some((p, None)) => (false, format!("{code} is not a code of {}", p.url)),
        Some((_, Some((_, en, de, _)))) => match display {
            Some(d) if d != en && Some(d) != de.as_deref() => {
                (false, format!("{code} is displayed as '{en}', not '{d}'"))
            }
            _ => (true, en.clone()),
        },
    };
    let which = if result { "display" } else { "message" };
    json!({"resourceType": "Parameters", "parameter": [
        {"name": "result", "valueBoolean": result},
        {"name": which, "valueString": message},
    ]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn own(code: &str) -> Symptom {
        Symptom {
            clinic_id: Some(Uuid::nil()),
            code: code.into(),
            label: "Tight skin".into(),
            kind: crate::domain::symptoms::SymptomKind::Severity,
            position: 1,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn our_codes_and_the_clinics_own_items_look_up_with_their_designations() {
        let clinic = Uuid::new_v4();
        let all = published(clinic, &[own("tightness")]);
        let redness = lookup(&all, codes::SYMPTOM, "redness").unwrap();
        assert_eq!(
            redness["parameter"][2]["valueString"],
            "Redness of the treated skin"
        );
        assert_eq!(
            redness["parameter"][3]["part"][1]["valueString"],
            "Rötung der behandelten Haut"
        );
        let severe = lookup(&all, codes::ANSWER, "severe").unwrap();
        assert_eq!(severe["parameter"][4]["part"][1]["valueInteger"], 3);
        let own = lookup(&all, &codes::clinic_items(clinic), "tightness").unwrap();
        assert_eq!(own["parameter"][2]["valueString"], "Tight skin");
        assert!(lookup(&all, codes::SYMPTOM, "tightness").is_none());
        assert!(lookup(&all, &codes::clinic_items(Uuid::new_v4()), "tightness").is_none());
    }

    #[test]
    fn validate_code_checks_the_code_and_the_display() {
        let all = published(Uuid::new_v4(), &[]);
        let ok = |v: Value| v["parameter"][0]["valueBoolean"] == true;
        assert!(ok(validate_code(&all, codes::AREA, "face", None)));
        assert!(ok(validate_code(
            &all,
            codes::AREA,
            "face",
            Some("Gesicht")
        )));
        assert!(!ok(validate_code(&all, codes::AREA, "face", Some("Neck"))));
        assert!(!ok(validate_code(&all, codes::AREA, "elbow", None)));
        let vs = codes::AREA.replace("CodeSystem", "ValueSet");
        assert!(ok(validate_code(&all, &vs, "neck", None)));
        assert!(!ok(validate_code(&all, "http://example.org", "neck", None)));
    }

    #[test]
    fn a_code_system_lists_its_concepts_and_the_scale_its_grades() {
        let all = published(Uuid::new_v4(), &[]);
        let answer = code_system(&all[1]);
        assert_eq!(answer["name"], "AftercareAnswerScale");
        assert_eq!(answer["count"], 7);
        assert_eq!(answer["concept"][4]["code"], "very-severe");
        assert_eq!(answer["concept"][4]["property"][0]["valueInteger"], 4);
        let clinic = code_system(&all[7]);
        assert_eq!(clinic["count"], 0);
        assert!(clinic.get("concept").is_none());
    }
}
