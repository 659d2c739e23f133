//! The FHIR resource types this server serves, by name.

/// A resource type this server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Patient,
    Procedure,
    Questionnaire,
    QuestionnaireResponse,
    Observation,
    AdverseEvent,
    Group,
    /// A photo sent with a check-in (its bytes are a `Binary`, read apart).
    Media,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Patient,
        Kind::Procedure,
        Kind::Questionnaire,
        Kind::QuestionnaireResponse,
        Kind::Observation,
        Kind::AdverseEvent,
        Kind::Group,
        Kind::Media,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Patient => "Patient",
            Kind::Procedure => "Procedure",
            Kind::Questionnaire => "Questionnaire",
            Kind::QuestionnaireResponse => "QuestionnaireResponse",
            Kind::Observation => "Observation",
            Kind::AdverseEvent => "AdverseEvent",
            Kind::Group => "Group",
            Kind::Media => "Media",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}
