//! The code systems and extensions the FHIR resources use: Aftercare's own, under one fixed
//! canonical base (README, "FHIR R4"), with their concepts in English and German, and the external
//! ones (FHIR's, HL7's, SNOMED CT) that the resources name.

use uuid::Uuid;

/// The canonical base of Aftercare's code systems, value sets and extensions: the same for every
/// deployment, so a code an EHR stored keeps its meaning when a clinic's server moves.
pub const CANONICAL: &str = "https://aftercare.dev/fhir";

pub const SYMPTOM: &str = "https://aftercare.dev/fhir/CodeSystem/symptom";
pub const ANSWER: &str = "https://aftercare.dev/fhir/CodeSystem/answer";
pub const AFTERCARE_QUESTION: &str = "https://aftercare.dev/fhir/CodeSystem/aftercare-question";
pub const AREA: &str = "https://aftercare.dev/fhir/CodeSystem/area";
pub const PROCEDURE: &str = "https://aftercare.dev/fhir/CodeSystem/procedure";
pub const OUTCOME: &str = "https://aftercare.dev/fhir/CodeSystem/outcome";
pub const ASSESSOR: &str = "https://aftercare.dev/fhir/CodeSystem/assessor";
pub const EXT_NEEDLE_DEPTH: &str = "https://aftercare.dev/fhir/StructureDefinition/needle-depth";
pub const EXT_SESSION_NUMBER: &str =
    "https://aftercare.dev/fhir/StructureDefinition/session-number";
pub const EXT_PROTOCOL: &str = "https://aftercare.dev/fhir/StructureDefinition/protocol";
pub const EXT_CTCAE_GRADE: &str = "https://aftercare.dev/fhir/StructureDefinition/ctcae-grade";
pub const EXT_FITZPATRICK: &str =
    "https://aftercare.dev/fhir/StructureDefinition/fitzpatrick-skin-type";

pub const SNOMED: &str = "http://snomed.info/sct";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const V2_IDENTIFIER_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
pub const AE_SERIOUSNESS: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";
pub const AE_SEVERITY: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-severity";
pub const AE_OUTCOME: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome";
pub const EXT_ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
pub const EXT_TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";

/// A concept of one of our code systems: its code, its display in English and in German, and for
/// an answer its grade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Concept {
    pub code: &'static str,
    pub en: &'static str,
    pub de: &'static str,
    pub ordinal: Option<i32>,
}

const fn c(code: &'static str, en: &'static str, de: &'static str) -> Concept {
    Concept {
        code,
        en,
        de,
        ordinal: None,
    }
}

const fn graded(code: &'static str, en: &'static str, de: &'static str, grade: i32) -> Concept {
    Concept {
        code,
        en,
        de,
        ordinal: Some(grade),
    }
}

/// One of our fixed code systems.
#[derive(Debug, Clone, Copy)]
pub struct System {
    /// The id of its CodeSystem (and of the ValueSet of all its codes).
    pub id: &'static str,
    pub url: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub concepts: &'static [Concept],
}

/// The default symptom items (the migration's catalogue, the app's German wording).
pub const SYMPTOMS: [Concept; 12] = [
    c(
        "redness",
        "Redness of the treated skin",
        "Rötung der behandelten Haut",
    ),
    c("swelling", "Swelling or puffiness", "Schwellung"),
    c("bruising", "Bruises", "Blaue Flecken"),
    c(
        "bleeding",
        "Pinpoint bleeding or oozing",
        "Punktförmige Blutungen oder Nässen",
    ),
    c(
        "flaking",
        "Flaking, peeling, dryness or crusting",
        "Schuppung, Schälen, Trockenheit oder Krusten",
    ),
    c("itching", "Itching", "Juckreiz"),
    c(
        "pain",
        "Pain, tenderness, burning or stinging",
        "Schmerzen, Druckempfindlichkeit, Brennen oder Stechen",
    ),
    c(
        "breakout",
        "New spots, acne or milia",
        "Neue Pickel, Akne oder Milien",
    ),
    c(
        "darkening",
        "Darker patches of skin",
        "Dunklere Hautstellen",
    ),
    c(
        "infection",
        "Pus, yellow crust, warmth or spreading redness",
        "Eiter, gelbe Krusten, Wärme oder sich ausbreitende Rötung",
    ),
    c(
        "fever",
        "Temperature of 38 °C or more",
        "Temperatur von 38 °C oder mehr",
    ),
    c(
        "blisters",
        "Blisters or cold sores",
        "Bläschen oder Lippenherpes",
    ),
];

/// The answers: a severity item's five grades, then a presence item's two.
pub const ANSWERS: [Concept; 7] = [
    graded("none", "None", "Keine", 0),
    graded("mild", "Mild", "Leicht", 1),
    graded("moderate", "Moderate", "Mäßig", 2),
    graded("severe", "Severe", "Stark", 3),
    graded("very-severe", "Very severe", "Sehr stark", 4),
    graded("no", "No", "Nein", 0),
    graded("yes", "Yes", "Ja", 1),
];

/// The aftercare questions of a check-in (domain.md), as the app asks them.
pub const AFTERCARE: [Concept; 5] = [
    c(
        "sunscreen",
        "Did you put on sunscreen today?",
        "Haben Sie heute Sonnenschutz aufgetragen?",
    ),
    c(
        "sun_exposure",
        "Were you out in strong sun today?",
        "Waren Sie heute in starker Sonne?",
    ),
    c(
        "makeup",
        "Did you wear make-up today?",
        "Haben Sie heute Make-up getragen?",
    ),
    c(
        "exercise",
        "Did you exercise or sweat a lot today?",
        "Haben Sie heute Sport gemacht oder stark geschwitzt?",
    ),
    c(
        "hot_shower",
        "Did you have a hot shower, bath or sauna today?",
        "Haben Sie heute heiß geduscht, gebadet oder sauniert?",
    ),
];

/// The note's question, as the app asks it.
pub const NOTE: (&str, &str) = (
    "Anything else you want your clinic to know? (optional)",
    "Möchten Sie Ihrer Praxis noch etwas mitteilen? (freiwillig)",
);

const PROCEDURES: [Concept; 4] = [
    c("microneedling", "Microneedling", "Microneedling"),
    c(
        "microneedling_prp",
        "Microneedling with PRP",
        "Microneedling mit PRP",
    ),
    c(
        "rf_microneedling",
        "Radio-frequency microneedling",
        "Radiofrequenz-Microneedling",
    ),
    c(
        "other",
        "Other needling procedure",
        "Anderes Needling-Verfahren",
    ),
];

const AREAS: [Concept; 6] = [
    c("face", "Face", "Gesicht"),
    c("neck", "Neck", "Hals"),
    c("chest", "Chest", "Dekolleté"),
    c("hands", "Hands", "Hände"),
    c("scalp", "Scalp", "Kopfhaut"),
    c("body", "Body", "Körper"),
];

const OUTCOMES: [Concept; 3] = [
    c(
        "gais",
        "Global Aesthetic Improvement Scale (-1 worse to 3 very much improved)",
        "Global Aesthetic Improvement Scale (-1 schlechter bis 3 sehr viel besser)",
    ),
    c(
        "satisfaction",
        "Satisfaction with the result (0-10)",
        "Zufriedenheit mit dem Ergebnis (0-10)",
    ),
    c(
        "goodman-baron",
        "Goodman & Baron qualitative acne scar grade (1-4)",
        "Qualitativer Aknenarben-Grad nach Goodman & Baron (1-4)",
    ),
];

const ASSESSORS: [Concept; 2] = [
    c(
        "clinician",
        "Rated by a clinician",
        "Von der Behandlerin oder dem Behandler bewertet",
    ),
    c(
        "patient",
        "Rated by the patient",
        "Von der Patientin oder dem Patienten bewertet",
    ),
];

/// Our fixed code systems.
pub const SYSTEMS: [System; 7] = [
    System {
        id: "symptom",
        url: SYMPTOM,
        title: "Aftercare symptom items",
        description: "The default items of the daily check-in after a skin-needling treatment, each rated on the answer scale (PRO-CTCAE-inspired wording; not PRO-CTCAE items)",
        concepts: &SYMPTOMS,
    },
    System {
        id: "answer",
        url: ANSWER,
        title: "Aftercare answer scale",
        description: "Answers to a symptom item: severity none (0) to very severe (4) at its worst today, or presence no (0) / yes (1); the grade is each concept's ordinal value",
        concepts: &ANSWERS,
    },
    System {
        id: "aftercare-question",
        url: AFTERCARE_QUESTION,
        title: "Aftercare questions",
        description: "The yes/no aftercare questions of the daily check-in",
        concepts: &AFTERCARE,
    },
    System {
        id: "procedure",
        url: PROCEDURE,
        title: "Aftercare protocol procedures",
        description: "The kind of needling a treatment protocol performs",
        concepts: &PROCEDURES,
    },
    System {
        id: "area",
        url: AREA,
        title: "Aftercare treated areas",
        description: "The areas a treatment covers",
        concepts: &AREAS,
    },
    System {
        id: "outcome",
        url: OUTCOME,
        title: "Aftercare outcome measures",
        description: "The ratings of a treatment's result",
        concepts: &OUTCOMES,
    },
    System {
        id: "assessor",
        url: ASSESSOR,
        title: "Aftercare outcome assessors",
        description: "Who rated an outcome",
        concepts: &ASSESSORS,
    },
];

/// Our fixed code system at `url`, if it is one.
pub fn system(url: &str) -> Option<&'static System> {
    SYSTEMS.iter().find(|s| s.url == url)
}

/// A concept of one of our fixed code systems.
pub fn concept(system_url: &str, code: &str) -> Option<&'static Concept> {
    system(system_url)?.concepts.iter().find(|c| c.code == code)
}

/// The answer a grade of an item of `presence` (or severity) kind is.
pub fn answer(presence: bool, grade: i32) -> Option<&'static Concept> {
    let scale = if presence {
        &ANSWERS[5..]
    } else {
        &ANSWERS[..5]
    };
    scale.iter().find(|c| c.ordinal == Some(grade))
}

/// The id of the CodeSystem of a clinic's own items.
pub fn clinic_items_id(clinic: Uuid) -> String {
    format!("clinic-{clinic}")
}

/// A clinic's own items are the clinic's code system; the clinic's id keeps it apart from every
/// other clinic's, on any server.
pub fn clinic_items(clinic: Uuid) -> String {
    format!("{CANONICAL}/CodeSystem/{}", clinic_items_id(clinic))
}

/// The clinic whose own items `url` names.
pub fn clinic_of_items(url: &str) -> Option<Uuid> {
    url.strip_prefix(CANONICAL)?
        .strip_prefix("/CodeSystem/clinic-")?
        .parse()
        .ok()
}

/// The clinic's record numbers are a namespace of the clinic's own.
pub fn record_number_system(clinic: Uuid) -> String {
    format!("urn:aftercare:clinic:{clinic}:record-number")
}

pub fn questionnaire_url(clinic: Uuid) -> String {
    format!("{CANONICAL}/Questionnaire/check-in-{clinic}")
}

/// SNOMED CT body structures of the treated areas, beside our code in `Procedure.bodySite`, each
/// checked against a published source (see the README): only areas whose concept is one region.
pub fn snomed_area(area: &str) -> Option<(&'static str, &'static str)> {
    match area {
        "face" => Some(("89545001", "Face structure")),
        "neck" => Some(("45048000", "Neck structure")),
        "scalp" => Some(("41695006", "Scalp structure")),
        "hands" => Some(("85562004", "Hand structure")),
        _ => None,
    }
}

/// An outcome's code and what it is.
pub fn outcome(code: &str) -> (&'static str, &'static str) {
    let c = match code {
        "gais" => OUTCOMES[0],
        "satisfaction" => OUTCOMES[1],
        _ => OUTCOMES[2],
    };
    (c.code, c.en)
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
    use crate::domain::codes::{Area, Procedure};

    #[test]
    fn every_domain_code_has_a_concept_and_every_system_its_own_codes_once() {
        for p in Procedure::ALL {
            assert!(concept(PROCEDURE, p.as_str()).is_some(), "{p:?}");
        }
        for a in Area::ALL {
            assert!(concept(AREA, a.as_str()).is_some(), "{a:?}");
        }
        for s in SYSTEMS {
            assert!(s.url.starts_with(CANONICAL) && s.url.ends_with(s.id));
            for (i, c) in s.concepts.iter().enumerate() {
                assert!(
                    s.concepts[..i].iter().all(|o| o.code != c.code),
                    "{}",
                    c.code
                );
                assert!(!c.en.is_empty() && !c.de.is_empty());
            }
        }
    }

    #[test]
    fn grades_are_answers_of_their_scale() {
        assert_eq!(answer(false, 0).map(|c| c.code), Some("none"));
        assert_eq!(answer(false, 4).map(|c| c.code), Some("very-severe"));
        assert_eq!(answer(true, 1).map(|c| c.code), Some("yes"));
        assert_eq!(answer(true, 2), None);
        assert_eq!(answer(false, 5), None);
    }

    #[test]
    fn a_clinics_item_system_names_the_clinic() {
        let clinic = Uuid::new_v4();
        assert_eq!(clinic_of_items(&clinic_items(clinic)), Some(clinic));
        assert_eq!(clinic_of_items(SYMPTOM), None);
        assert!(clinic_items_id(clinic).len() <= 64);
    }
}
