//! How the domain's and the read model's plain types appear in the API document. domain/ and
//! read_model/ derive serde only; the schema of each type they lend the API is given here: an
//! enum's values come from its `ALL` list as serde writes them, a struct's schema from a mirror:
//! declared from the struct's own declaration where it has one (`documented!`), otherwise kept
//! here and held to the struct's fields by the tests below.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::alerts::{self, Level, RULES, Rule};
use crate::domain::audit;
use crate::domain::codes::{AdverseOutcome, Area, Assessor, Concern, Contraindication, Procedure};
use crate::domain::people::StaffRole;
use crate::domain::schedule::DueStatus;
use crate::domain::symptoms::SymptomKind;
use crate::domain::{FieldError, schedule, webhooks};
use crate::read_model::patient_list::{self, patient_list_rows};

/// A string enum of `values` as serde writes them, in their order.
fn string_enum<T: Serialize>(description: Option<&str>, values: &[T]) -> RefOr<Schema> {
    let values = values.iter().filter_map(|v| match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    });
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(description)
        .enum_values(Some(values))
        .into()
}

/// `$ty` is the string enum `$name` of the values in `$all`.
macro_rules! enum_schema {
    ($ty:ty, $name:literal, $description:expr, $all:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                string_enum($description, &$all)
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

enum_schema!(Level, "AlertLevel", None, Level::ALL);
enum_schema!(Rule, "AlertRule", None, RULES);
enum_schema!(
    alerts::Action,
    "AlertAction",
    Some(r#"What resolving an alert led to (domain.md, "What a clinic sees of its own alerts")."#),
    alerts::ACTIONS
);
enum_schema!(alerts::Status, "AlertStatus", None, alerts::Status::ALL);
enum_schema!(audit::Action, "AuditAction", None, audit::Action::ALL);
enum_schema!(StaffRole, "StaffRole", None, StaffRole::ALL);
enum_schema!(DueStatus, "DueStatus", None, DueStatus::ALL);
enum_schema!(
    SymptomKind,
    "SymptomKind",
    Some("How an item is answered."),
    SymptomKind::ALL
);
enum_schema!(
    webhooks::EventType,
    "WebhookEvent",
    None,
    webhooks::EventType::ALL
);
enum_schema!(
    webhooks::DeliveryStatus,
    "DeliveryStatus",
    None,
    webhooks::DeliveryStatus::ALL
);
enum_schema!(
    Procedure,
    "Procedure",
    Some("The kind of needling a protocol performs."),
    *Procedure::ALL
);
enum_schema!(Area, "Area", Some("A treated area."), *Area::ALL);
enum_schema!(
    Concern,
    "Concern",
    Some("What the patient wants treated."),
    *Concern::ALL
);
enum_schema!(
    Contraindication,
    "Contraindication",
    Some("A condition that advises against treatment; see domain.md."),
    *Contraindication::ALL
);
enum_schema!(
    AdverseOutcome,
    "AdverseOutcome",
    Some("What became of a complication."),
    *AdverseOutcome::ALL
);
enum_schema!(
    Assessor,
    "Assessor",
    Some("Who rated an outcome."),
    *Assessor::ALL
);

/// `$ty` has the schema of its mirror `$mirror`, under the mirror's name.
macro_rules! mirrored {
    ($($ty:ty => $mirror:ty),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <$mirror as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                <$mirror as utoipa::ToSchema>::name()
            }

            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                <$mirror as utoipa::ToSchema>::schemas(schemas)
            }
        }
    )+};
}
pub(super) use mirrored;

/// Takes the structs of a one-declaration macro (`recovery_views!`, `patient_list_rows!`) as
/// `$source => $mirror;` and the declaration: declares the mirrors in module `$mirror` (never
/// built: only their schemas are used) and gives each of `$source`'s types its mirror's schema,
/// under the same name, so that a type and its schema can't drift apart.
macro_rules! documented {
    ($source:ident => $mirror:ident; $($(#[$attr:meta])* pub struct $name:ident $body:tt)*) => {
        #[allow(dead_code, unused_imports)]
        mod $mirror {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            $(
                $(#[$attr])*
                #[derive(utoipa::ToSchema)]
                pub struct $name $body
            )*
        }

        crate::api::schemas::mirrored!($($source::$name => $mirror::$name),*);
    };
}
pub(super) use documented;

patient_list_rows!(documented patient_list => list_mirror;);

mirrored!(
    FieldError => mirror::FieldError,
    schedule::ScheduledDay => mirror::ScheduledDay,
    webhooks::AlertData => mirror::AlertData,
    webhooks::CheckInData => mirror::CheckInData,
    webhooks::AdverseEventData => mirror::AdverseEventData,
    webhooks::PatientData => mirror::PatientData,
    webhooks::CheckInDueData => mirror::CheckInDueData,
    webhooks::PhotoData => mirror::PhotoData,
    webhooks::WebhookPayload => mirror::WebhookPayload,
);

/// The documented shapes of the domain's and the read model's structs, field for field (never built: only their
/// schemas are used).
#[allow(dead_code)]
mod mirror {
    use chrono::{DateTime, NaiveDate, Utc};
    use utoipa::ToSchema;
    use uuid::Uuid;

    use crate::domain::alerts::{Level, Rule};
    use crate::domain::schedule::DueStatus;
    use crate::domain::webhooks::EventType;

    /// One field that failed validation. `field` is a dotted path into the request.
    #[derive(ToSchema)]
    pub struct FieldError {
        pub field: String,
        pub message: String,
    }

    #[derive(ToSchema)]
    pub struct ScheduledDay {
        /// Days since the treatment.
        pub day: i32,
        /// The calendar date of that day in the clinic's time zone.
        pub date: NaiveDate,
        pub done: bool,
        pub status: DueStatus,
    }

    /// The `data` of `alert.raised` and `alert.resolved`.
    #[derive(ToSchema)]
    pub struct AlertData {
        pub id: Uuid,
        pub rule: Rule,
        pub level: Level,
        pub patient_id: Uuid,
        pub treatment_id: Uuid,
        /// Days since the treatment when it was raised.
        pub day: i32,
    }

    /// The `data` of `check_in.created`: which check-in, not what it says.
    #[derive(ToSchema)]
    pub struct CheckInData {
        pub id: Uuid,
        pub patient_id: Uuid,
        pub treatment_id: Uuid,
        pub day: i32,
        pub recorded_at: DateTime<Utc>,
    }

    /// The `data` of `adverse_event.recorded`: the grade, not the clinician's words.
    #[derive(ToSchema)]
    pub struct AdverseEventData {
        pub id: Uuid,
        pub patient_id: Uuid,
        pub treatment_id: Uuid,
        /// CTCAE grade 1-5.
        pub grade: i16,
        pub serious: bool,
    }

    /// The `data` of `patient.erased`: the id alone.
    #[derive(ToSchema)]
    pub struct PatientData {
        pub patient_id: Uuid,
    }

    /// The `data` of `check_in.due`: whose check-in is due, for which day.
    #[derive(ToSchema)]
    pub struct CheckInDueData {
        pub patient_id: Uuid,
        pub treatment_id: Uuid,
        /// Days since the treatment.
        pub day: i32,
        /// That day's date in the clinic's time zone.
        pub date: NaiveDate,
    }

    /// The `data` of `photo.received`: ids, never the photo; read it through the API.
    #[derive(ToSchema)]
    pub struct PhotoData {
        pub id: Uuid,
        pub check_in_id: Uuid,
        pub patient_id: Uuid,
        pub treatment_id: Uuid,
    }

    /// The body of every delivery.
    #[derive(ToSchema)]
    #[schema(example = json!({
        "id": "5b0c8f2e-3a1d-4e6f-8b9c-0d1e2f3a4b5c",
        "type": "alert.raised",
        "created_at": "2026-11-21T08:30:00.123456Z",
        "clinic_id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
        "data": {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "rule": "infection_signs", "level": "urgent",
                 "patient_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "treatment_id": "a81b4c2d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
                 "day": 2}
    }))]
    pub struct WebhookPayload {
        /// The event's id: the same in every attempt and redelivery, so receivers deduplicate on it.
        pub id: Uuid,
        #[schema(rename = "type")]
        pub event_type: EventType,
        pub created_at: DateTime<Utc>,
        pub clinic_id: Uuid,
        /// `AlertData`, `CheckInData`, `AdverseEventData`, `PatientData`, `CheckInDueData` or
        /// `PhotoData`, as `type` says.
        #[schema(value_type = Object)]
        pub data: serde_json::Value,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{NaiveDate, Utc};
    use uuid::Uuid;

    use super::*;

    /// The fields serde writes of `value` are the properties its schema documents.
    fn documents_every_field<T: Serialize + ToSchema>(value: T) {
        let written: BTreeSet<String> = match serde_json::to_value(&value) {
            Ok(serde_json::Value::Object(o)) => o.keys().cloned().collect(),
            other => panic!("{} is not written as an object: {other:?}", T::name()),
        };
        let documented: BTreeSet<String> = match T::schema() {
            RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
            _ => panic!("{} is not documented as an object", T::name()),
        };
        assert_eq!(written, documented, "{}", T::name());
    }

    #[test]
    fn the_document_names_every_field_of_the_domain_structs() {
        let id = Uuid::nil();
        let date = NaiveDate::MIN;
        documents_every_field(FieldError::new("a", "b"));
        documents_every_field(schedule::ScheduledDay {
            day: 0,
            date,
            done: false,
            status: DueStatus::Due,
        });
        let alert = webhooks::AlertData {
            id,
            rule: Rule::Fever,
            level: Level::Urgent,
            patient_id: id,
            treatment_id: id,
            day: 0,
        };
        documents_every_field(alert.clone());
        documents_every_field(webhooks::CheckInData {
            id,
            patient_id: id,
            treatment_id: id,
            day: 0,
            recorded_at: Utc::now(),
        });
        documents_every_field(webhooks::AdverseEventData {
            id,
            patient_id: id,
            treatment_id: id,
            grade: 1,
            serious: false,
        });
        documents_every_field(webhooks::PatientData { patient_id: id });
        documents_every_field(webhooks::CheckInDueData {
            patient_id: id,
            treatment_id: id,
            day: 0,
            date,
        });
        documents_every_field(webhooks::PhotoData {
            id,
            check_in_id: id,
            patient_id: id,
            treatment_id: id,
        });
        let payload = webhooks::Event::AlertRaised(alert).envelope(id, id, Utc::now());
        documents_every_field(payload.unwrap());
    }

    #[test]
    fn the_document_names_every_field_of_the_patient_lists_rows() {
        let worst = || patient_list::SymptomScore {
            code: "pain".into(),
            score: 3,
        };
        documents_every_field(patient_list::WorstOfDay { day: 1, score: 3 });
        documents_every_field(worst());
        documents_every_field(patient_list::LatestCheckIn {
            day: 1,
            worst: Some(worst()),
        });
        documents_every_field(patient_list::LatestTreatment {
            treatment_id: Uuid::nil(),
            protocol_id: Uuid::nil(),
            performed_at: Utc::now(),
            day: 1,
            in_follow_up: true,
            due_today_not_checked_in: false,
            slower_than_usual: false,
            slower_symptoms: vec![],
            worst_by_day: vec![],
            latest_check_in: None,
        });
    }
}
