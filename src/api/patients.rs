//! Patients, and the enrollment codes that connect their phones.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::created;
use super::extract::{Json, Page, PageParams, double_option};
use crate::config::PublicUrl;
use crate::db::patients::{ListFilter, Search};
use crate::db::{self, PageRequest, Pool};
use crate::domain::alerts::Level;
use crate::domain::clinic::parse_phone;
use crate::domain::codes::{self, Concern};
use crate::domain::ids::{PatientId, ProtocolId, StaffId};
use crate::domain::people::{check_birth_year, check_external_ref, check_fitzpatrick};
use crate::domain::text::record_key;
use crate::domain::{Invalid, check_text};
use crate::error::{ApiError, FieldError};
use crate::read_model::Store;
use crate::read_model::patient_list::{self, LatestTreatment, ListedPatient, TodayFilter};
use crate::services::patients;
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "external_ref": "MRN-00421", "display_name": "Alex", "birth_year": 1988, "fitzpatrick_type": 3,
    "concerns": ["acne_scars", "texture"], "contact_phone": "+49 151 2345 6789"
}))]
pub struct NewPatient {
    /// The clinic's own record number, unique within the clinic: 1-64 printable characters without
    /// blanks around them, and without zero-width or text-direction characters. Record numbers that
    /// differ only in case, accents, separators or width (`MRN-00421`, `mrn 00421`, `ＭＲＮ００４２１`)
    /// are the same record number.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff](?:[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff])?$"
    )]
    pub external_ref: String,
    /// Not blank, at most 120 characters, without control, zero-width or text-direction characters.
    #[schema(
        max_length = 120,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*$"
    )]
    pub display_name: Option<String>,
    /// From 1900 to this year.
    #[schema(minimum = 1900)]
    pub birth_year: Option<i32>,
    /// Fitzpatrick skin type, 1-6.
    #[schema(minimum = 1, maximum = 6)]
    pub fitzpatrick_type: Option<i16>,
    #[serde(default)]
    pub concerns: Vec<Concern>,
    /// The patient's phone, for the clinic to call: `+` and 6-15 digits, spaces and dashes allowed
    /// between them; stored as `+` and the digits.
    #[schema(pattern = "^\\+[0-9][0-9 -]*[0-9]$", max_length = 40)]
    pub contact_phone: Option<String>,
}

/// Changes to a patient: a field left out stays as it is; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Alex P.", "fitzpatrick_type": null}))]
pub struct PatientPatch {
    /// Can be changed, not cleared.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, required = false)]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff](?:[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff])?$"
    )]
    pub external_ref: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(
        max_length = 120,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*$"
    )]
    pub display_name: Option<Option<String>>,
    /// From 1900 to this year.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1900)]
    pub birth_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1, maximum = 6)]
    pub fitzpatrick_type: Option<Option<i16>>,
    pub concerns: Option<Vec<Concern>>,
    /// `+` and 6-15 digits, spaces and dashes allowed between them; stored as `+` and the digits.
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, required = false, pattern = "^\\+[0-9][0-9 -]*[0-9]$", max_length = 40)]
    pub contact_phone: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Patient {
    pub id: Uuid,
    pub external_ref: String,
    pub display_name: Option<String>,
    pub birth_year: Option<i32>,
    pub fitzpatrick_type: Option<i16>,
    pub concerns: Vec<Concern>,
    /// The patient's phone: `+` and digits.
    pub contact_phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<db::patients::Patient> for Patient {
    fn from(p: db::patients::Patient) -> Self {
        Patient {
            id: p.id.uuid(),
            external_ref: p.external_ref,
            display_name: p.display_name,
            birth_year: p.birth_year,
            fitzpatrick_type: p.fitzpatrick_type,
            concerns: p.concerns.into_iter().flatten().collect(),
            contact_phone: p.contact_phone,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollmentCode {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// Shown once: only a hash is kept. Type it into the patient's app.
    pub code: String,
    /// The link that opens the patient's app and enrolls it with this code (show it as a QR code).
    /// The code is in the fragment, which browsers send to no server and put in no `Referer`.
    #[schema(example = "https://aftercare.clinic.example/app#code=K7QF-2M9X-PW4D")]
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// An enrollment code's state; the code itself is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollmentCodeStatus {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

fn check_fields(
    invalid: &mut Invalid,
    external_ref: Option<&str>,
    display_name: Option<&str>,
    birth_year: Option<i32>,
    fitzpatrick_type: Option<i16>,
) {
    if let Some(r) = external_ref {
        check_external_ref(invalid, "external_ref", r);
    }
    check_text(invalid, "display_name", display_name, 120);
    if let Some(name) = display_name {
        crate::domain::text::check_visible(invalid, "display_name", name);
    }
    if let Some(year) = birth_year {
        check_birth_year(invalid, "birth_year", year, Utc::now().date_naive());
    }
    if let Some(t) = fitzpatrick_type {
        check_fitzpatrick(invalid, "fitzpatrick_type", t);
    }
}

/// The phone as stored, `+` and digits, by the clinic's phone's rule (`parse_phone`); None, with
/// its error under `contact_phone`, when it is not a phone number.
fn phone(invalid: &mut Invalid, phone: &str) -> Option<String> {
    parse_phone(phone)
        .map_err(|message| invalid.add("contact_phone", message))
        .ok()
}

/// Register a patient.
#[utoipa::path(
    tag = "patients",
    request_body = NewPatient,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = Patient, headers(("Location" = String))),
        (status = 409, description = "The external_ref is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/patients")]
pub async fn create(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(req): Json<NewPatient>,
) -> Result<HttpResponse, ApiError> {
    let mut invalid = Invalid::default();
    check_fields(
        &mut invalid,
        Some(&req.external_ref),
        req.display_name.as_deref(),
        req.birth_year,
        req.fitzpatrick_type,
    );
    let contact_phone = req.contact_phone.and_then(|p| phone(&mut invalid, &p));
    invalid.into_result()?;
    let now = Utc::now();
    let patient = db::patients::Patient {
        id: PatientId::new_v4(),
        external_ref_key: record_key(&req.external_ref),
        external_ref: req.external_ref,
        display_name: req
            .display_name
            .map(|s| crate::domain::text::trim(&s).to_string()),
        birth_year: req.birth_year,
        fitzpatrick_type: req.fitzpatrick_type,
        concerns: codes::stored(&req.concerns),
        created_at: now,
        updated_at: now,
        contact_phone,
    };
    let patient = db::run(&pool, move |conn| {
        patients::register(conn, caller.tenant, &patient)
    })
    .await?;
    Ok(created(
        format!("/v1/patients/{}", patient.id),
        Patient::from(patient),
    ))
}

/// The patient list's search, filters and page; those given all apply.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientQuery {
    /// A record number or a name, as one types it: the patients whose record number begins with
    /// it (compared as record numbers are, so `mrn 004` finds `MRN-00421`), or whose name has a
    /// word beginning with each word typed, in any case (`al mo` finds `Alex Morgan`). 1-100
    /// characters.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// The patients whose latest treatment is of this protocol.
    #[param(value_type = Option<Uuid>)]
    pub protocol_id: Option<String>,
    /// `true`: the patients whose latest treatment is still in follow-up today (from its day 0 to
    /// its protocol's last check-in day, in the clinic's time zone); `false`: the others.
    #[param(value_type = Option<bool>)]
    pub in_follow_up: Option<String>,
    /// `true`: the patients with open or acknowledged alerts; `false`: those without.
    #[param(value_type = Option<bool>)]
    pub open_alerts: Option<String>,
    /// `true`: the patients whose latest treatment is slower than usual today, as the dashboard
    /// counts it (`GET /v1/dashboard`, `slower_than_usual`): in follow-up, with a symptom still
    /// present after the day by which 90% of the protocol's patients had resolved it; `false`:
    /// the others.
    #[param(value_type = Option<bool>)]
    pub slower: Option<String>,
    /// `true`: the patients whose latest treatment has a check-in due today (in the clinic's time
    /// zone) and who have not checked in for today yet; `false`: the others.
    #[param(value_type = Option<bool>)]
    pub due_today: Option<String>,
    /// The `next_cursor` of the previous page, asked with the same search and filters.
    pub cursor: Option<String>,
    /// How many items, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200, value_type = Option<i64>)]
    pub limit: Option<String>,
}

/// A filter's `true` or `false`, or its error.
fn flag(errors: &mut Vec<FieldError>, name: &str, value: Option<&str>) -> Option<bool> {
    match value? {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            errors.push(FieldError::new(name, "must be true or false"));
            None
        }
    }
}

impl PatientQuery {
    /// The query's filters and page, or a 400 naming each parameter that is not valid.
    fn parse(self) -> Result<(ListFilter, TodayFilter, PageRequest), ApiError> {
        let mut errors = vec![];
        if let Some(q) = &self.q
            && !(1..=100).contains(&q.chars().count())
        {
            errors.push(FieldError::new("q", "must be 1 to 100 characters"));
        }
        let protocol_id = self.protocol_id.as_deref().and_then(|id| {
            let parsed = id.parse::<Uuid>().ok();
            if parsed.is_none() {
                errors.push(FieldError::new("protocol_id", "must be a protocol's id"));
            }
            parsed
        });
        let open_alerts = flag(&mut errors, "open_alerts", self.open_alerts.as_deref());
        let today = TodayFilter {
            in_follow_up: flag(&mut errors, "in_follow_up", self.in_follow_up.as_deref()),
            slower: flag(&mut errors, "slower", self.slower.as_deref()),
            due_today: flag(&mut errors, "due_today", self.due_today.as_deref()),
        };
        let limit = self.limit.as_deref().and_then(|n| {
            let parsed = n.parse::<i64>().ok();
            if parsed.is_none() {
                errors.push(FieldError::new("limit", "must be from 1 to 200"));
            }
            parsed
        });
        let page = PageParams {
            cursor: self.cursor,
            limit,
        }
        .request();
        if let Err(ApiError::BadRequest(_, more)) = &page {
            errors.extend(more.iter().cloned());
        }
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(
                "the query parameters are not valid".into(),
                errors,
            ));
        }
        let filter = ListFilter {
            search: self.q.as_deref().map(Search::of),
            protocol_id: protocol_id.map(ProtocolId::from),
            open_alerts,
            latest: None,
        };
        Ok((filter, today, page?))
    }
}

/// A patient as the clinic's list shows them: the patient, their alerts not yet resolved, and
/// their latest treatment as it stands today.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientListItem {
    #[serde(flatten)]
    pub patient: Patient,
    /// How many of the patient's alerts are open or acknowledged.
    pub open_alerts: i64,
    /// The highest level among those alerts; null when there are none.
    pub top_alert_level: Option<Level>,
    /// Null before the patient's first treatment.
    pub latest_treatment: Option<LatestTreatment>,
}

impl From<ListedPatient> for PatientListItem {
    fn from(p: ListedPatient) -> Self {
        PatientListItem {
            patient: p.patient.into(),
            open_alerts: p.open_alerts,
            top_alert_level: p.top_alert_level,
            latest_treatment: p.latest_treatment,
        }
    }
}

/// The clinic's patients, oldest first: all of them, or those that a search and filters choose,
/// each with what a list shows of them (alerts, latest treatment, today's check-in).
///
/// For the next page, pass `next_cursor` as `cursor` with the same search and filters. Pages
/// continue after the last patient shown, so a patient is listed at most once, even when the
/// filters' answers change between pages (someone checks in).
#[utoipa::path(
    tag = "patients",
    params(PatientQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of patients", body = Page<PatientListItem>),
        (status = 400, description = "A query parameter is not valid; `errors` names each", body = crate::error::Problem,
            content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:bad-request", "title": "The request is malformed",
                             "status": 400, "detail": "the query parameters are not valid", "errors": [
                {"field": "q", "message": "must be 1 to 100 characters"},
                {"field": "due_today", "message": "must be true or false"}]})),
    )
)]
#[get("/v1/patients")]
pub async fn list(
    pool: web::Data<Pool>,
    store: web::Data<Store>,
    caller: Caller,
    query: web::Query<PatientQuery>,
    req: HttpRequest,
) -> Result<web::Json<Page<PatientListItem>>, ApiError> {
    let (filter, today, page) = query.into_inner().parse()?;
    let store = store.into_inner();
    let (rows, next) = db::run(&pool, move |conn| {
        patient_list::patient_list(conn, &store, caller.tenant, filter, today, page)
    })
    .await?;
    crate::api::trail::shown(&req, rows.iter().map(|p| p.patient.id.uuid()));
    Ok(web::Json(Page::new(rows, next, PatientListItem::from)))
}

/// One patient. A patient may read their own record.
#[utoipa::path(
    tag = "patients",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The patient", body = Patient))
)]
#[get("/v1/patients/{id}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Patient>, ApiError> {
    let id = id.into_inner();
    caller.may_see_patient(id)?;
    let patient = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::patients::get(conn, caller.tenant, PatientId::from(id))?)
    })
    .await?;
    Ok(web::Json(patient.into()))
}

/// Change a patient's details.
#[utoipa::path(
    tag = "patients",
    params(("id" = Uuid, Path)),
    request_body = PatientPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated patient", body = Patient),
        (status = 409, description = "The external_ref is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/patients/{id}")]
pub async fn update(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<PatientPatch>,
) -> Result<web::Json<Patient>, ApiError> {
    let id = id.into_inner();
    let changes = changes_of(req)?;
    let patient = db::run(&pool, move |conn| {
        patients::update(conn, caller.tenant, PatientId::from(id), &changes)
    })
    .await?;
    Ok(web::Json(patient.into()))
}

/// Checks a patch and turns it into the row's changes.
fn changes_of(req: PatientPatch) -> Result<db::patients::PatientChanges, ApiError> {
    let mut invalid = Invalid::default();
    invalid.check(
        req.external_ref != Some(None),
        "external_ref",
        "can't be cleared",
    );
    let external_ref = req.external_ref.flatten();
    check_fields(
        &mut invalid,
        external_ref.as_deref(),
        req.display_name.as_ref().and_then(|d| d.as_deref()),
        req.birth_year.flatten(),
        req.fitzpatrick_type.flatten(),
    );
    let contact_phone = req
        .contact_phone
        .map(|p| p.and_then(|p| phone(&mut invalid, &p)));
    invalid.into_result()?;
    Ok(db::patients::PatientChanges {
        external_ref_key: external_ref.as_deref().map(record_key),
        external_ref,
        display_name: req
            .display_name
            .map(|d| d.map(|s| crate::domain::text::trim(&s).to_string())),
        birth_year: req.birth_year,
        fitzpatrick_type: req.fitzpatrick_type,
        concerns: req.concerns.as_deref().map(codes::stored),
        contact_phone,
        updated_at: Some(Utc::now()),
    })
}

/// Issue a one-time code for the patient's app, valid for 72 hours.
///
/// Codes issued earlier for the same patient and not yet used stop working.
#[utoipa::path(
    tag = "patients",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 201, description = "The code", body = EnrollmentCode, headers(("Location" = String))))
)]
#[post("/v1/patients/{id}/enrollment-codes")]
pub async fn create_enrollment_code(
    pool: web::Data<Pool>,
    public_url: web::Data<PublicUrl>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let staff_id = StaffId::from(caller.id);
    let patient_id = id.into_inner();
    let (row, code) = db::run(&pool, move |conn| {
        let patient = PatientId::from(patient_id);
        patients::issue_enrollment_code(conn, caller.tenant, patient, staff_id)
    })
    .await?;
    let location = format!("/v1/patients/{patient_id}/enrollment-codes/{}", row.id);
    Ok(created(
        location,
        EnrollmentCode {
            id: row.id,
            patient_id,
            link: enrollment_link(&public_url, &code),
            code,
            expires_at: row.expires_at,
        },
    ))
}

/// The link that enrolls the app, at `AFTERCARE_PUBLIC_URL`.
fn enrollment_link(public_url: &PublicUrl, code: &str) -> String {
    format!("{public_url}/app#code={code}")
}

/// Whether an enrollment code has been used.
#[utoipa::path(
    tag = "patients",
    params(("id" = Uuid, Path), ("code_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The code's state", body = EnrollmentCodeStatus))
)]
#[get("/v1/patients/{id}/enrollment-codes/{code_id}")]
pub async fn get_enrollment_code(
    pool: web::Data<Pool>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<EnrollmentCodeStatus>, ApiError> {
    let (patient_id, id) = path.into_inner();
    let row = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::tokens::get_enrollment_code(
            conn,
            caller.tenant,
            PatientId::from(patient_id),
            id,
        )?)
    })
    .await?;
    Ok(web::Json(EnrollmentCodeStatus {
        id: row.id,
        patient_id: row.patient_id.uuid(),
        created_at: row.created_at,
        expires_at: row.expires_at,
        used_at: row.used_at,
    }))
}
