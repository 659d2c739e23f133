//! The code systems and extensions the FHIR resources use: Aftercare's own (URNs, as the problem
//! types are), FHIR's, and the SNOMED CT concepts verified for the default symptoms.

use uuid::Uuid;

pub const SYMPTOM: &str = "urn:aftercare:fhir:CodeSystem:symptom";
pub const AREA: &str = "urn:aftercare:fhir:CodeSystem:area";
pub const PROCEDURE: &str = "urn:aftercare:fhir:CodeSystem:procedure";
pub const OUTCOME: &str = "urn:aftercare:fhir:CodeSystem:outcome";
pub const ASSESSOR: &str = "urn:aftercare:fhir:CodeSystem:assessor";
pub const EXT_NEEDLE_DEPTH: &str = "urn:aftercare:fhir:StructureDefinition:needle-depth";
pub const EXT_SESSION_NUMBER: &str = "urn:aftercare:fhir:StructureDefinition:session-number";
pub const EXT_PROTOCOL: &str = "urn:aftercare:fhir:StructureDefinition:protocol";
pub const EXT_CTCAE_GRADE: &str = "urn:aftercare:fhir:StructureDefinition:ctcae-grade";
pub const EXT_FITZPATRICK: &str = "urn:aftercare:fhir:StructureDefinition:fitzpatrick-skin-type";

pub const SNOMED: &str = "http://snomed.info/sct";
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const V2_IDENTIFIER_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
pub const AE_SERIOUSNESS: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";
pub const AE_SEVERITY: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-severity";
pub const AE_OUTCOME: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome";
pub const EXT_MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
pub const EXT_MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";

/// The aftercare questions of a check-in (domain.md), by their codes.
pub const AFTERCARE: [(&str, &str); 5] = [
    ("sunscreen", "Used sunscreen"),
    ("sun_exposure", "Was out in the sun"),
    ("makeup", "Wore makeup"),
    ("exercise", "Did strenuous exercise"),
    ("hot_shower", "Took a hot shower, bath or sauna"),
];

/// The clinic's record numbers are a namespace of the clinic's own.
pub fn record_number_system(clinic: Uuid) -> String {
    format!("urn:aftercare:clinic:{clinic}:record-number")
}

pub fn questionnaire_url(clinic: Uuid) -> String {
    format!("urn:aftercare:clinic:{clinic}:questionnaire:check-in")
}

/// SNOMED CT concepts of the default symptoms, each checked against a published source:
/// Erythema 247441003 and Fever 386661006 (FHIR's own examples and HL7's OMOP concept map),
/// Peeling of skin 271767006 and Itching of skin 418363000 (HL7's skin-wound IG, the SNOMED on
/// FHIR IG). `pain` is left out: 22253000 could not be confirmed from a source at hand. The other
/// symptoms have no single concept for what the patient rates (flaking is also dryness and
/// crusting, swelling is not edema as a clinician finds it), so they carry Aftercare's code only.
pub fn snomed_of(symptom: &str) -> Option<(&'static str, &'static str)> {
    match symptom {
        "redness" => Some(("247441003", "Erythema")),
        "flaking" => Some(("271767006", "Peeling of skin")),
        "itching" => Some(("418363000", "Itching of skin")),
        "fever" => Some(("386661006", "Fever")),
        _ => None,
    }
}

/// An outcome's code and what it is.
pub fn outcome(code: &str) -> (&'static str, &'static str) {
    match code {
        "gais" => (
            "gais",
            "Global Aesthetic Improvement Scale (-1 worse to 3 very much improved)",
        ),
        "satisfaction" => ("satisfaction", "Satisfaction with the result (0-10)"),
        _ => (
            "goodman-baron",
            "Goodman & Baron qualitative acne scar grade (1-4)",
        ),
    }
}

/// An adverse event's outcome in FHIR's code system.
pub fn adverse_outcome(outcome: &str) -> Option<&'static str> {
    match outcome {
        "resolved" => Some("resolved"),
        "recovering" => Some("recovering"),
        "ongoing" => Some("ongoing"),
        "resolved_with_sequelae" => Some("resolvedWithSequelae"),
        "unknown" => Some("unknown"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_verified_symptoms_have_snomed_concepts() {
        for code in ["redness", "flaking", "itching", "fever"] {
            assert!(snomed_of(code).is_some(), "{code}");
        }
        for code in ["pain", "swelling", "bruising", "infection", "my_own_item"] {
            assert!(snomed_of(code).is_none(), "{code}");
        }
    }
}
