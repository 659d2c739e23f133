//! The caller's clinic and its settings: every role reads them (the patients' app shows the phone
//! number), admins change them.

use actix_web::{get, patch, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{Json, double_option};
use crate::db::{self, Pool};
use crate::domain::Invalid;
use crate::domain::clinic::{is_hour, parse_phone};
use crate::error::{ApiError, Problem};
use crate::services;
use crate::web::auth::Caller;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "6f1c2a9e-3b7d-4c1e-9a5f-2d8e4b6c0a17",
    "name": "Lumen Skin Clinic",
    "timezone": "Europe/Berlin",
    "contact_phone": "+493012345678",
    "reminder_hour": 18,
    "code": "K7QM4X"
}))]
pub struct Clinic {
    pub id: Uuid,
    pub name: String,
    /// The IANA time zone in which the clinic's days are counted.
    pub timezone: String,
    /// The number patients are asked to call when an answer needs the clinic: `+` and digits.
    pub contact_phone: Option<String>,
    /// The hour of the clinic's day (0-23) after which a patient who has not checked in on a
    /// scheduled day is reminded.
    pub reminder_hour: i16,
    /// The clinic's code, shown to staff (null for patients): staff who work at more than one
    /// clinic give it when signing in (`clinic` in `POST /v1/auth/login`).
    pub code: Option<String>,
}

impl Clinic {
    /// The clinic as `caller` may see it: a patient's app has no use for the code.
    fn for_caller(c: db::clinics::Clinic, caller: &Caller) -> Self {
        let staff = caller.role != crate::web::auth::Role::Patient;
        Clinic {
            id: c.id.uuid(),
            name: c.name,
            timezone: c.timezone,
            contact_phone: c.contact_phone,
            reminder_hour: c.reminder_hour,
            code: staff.then_some(c.code),
        }
    }
}

/// Changes to the clinic's settings: a field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_phone": "+49 30 1234 5678", "reminder_hour": 19}))]
pub struct ClinicPatch {
    /// `+` and 6-15 digits, spaces and dashes allowed between them; stored as `+` and the digits.
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, required = false, pattern = "^\\+[0-9][0-9 -]*[0-9]$", max_length = 40)]
    pub contact_phone: Option<Option<String>>,
    #[schema(minimum = 0, maximum = 23)]
    pub reminder_hour: Option<i16>,
}

fn changes(req: ClinicPatch) -> Result<db::clinics::Changes, ApiError> {
    let mut invalid = Invalid::default();
    let contact_phone = match req.contact_phone {
        Some(Some(phone)) => match parse_phone(&phone) {
            Ok(p) => Some(Some(p)),
            Err(message) => {
                invalid.add("contact_phone", message);
                None
            }
        },
        other => other,
    };
    if let Some(hour) = req.reminder_hour {
        invalid.check(is_hour(hour), "reminder_hour", "must be between 0 and 23");
    }
    invalid.into_result()?;
    Ok(db::clinics::Changes {
        contact_phone,
        reminder_hour: req.reminder_hour,
    })
}

/// The caller's clinic: its name, time zone, contact phone and reminder hour, and for staff its code.
#[utoipa::path(
    tag = "clinic",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The clinic", body = Clinic),
        (status = 401, description = "No valid access token", body = Problem,
            content_type = "application/problem+json", headers(("WWW-Authenticate" = String)),
            example = json!({"type": "urn:aftercare:problem:unauthorized", "title": "Authentication is required",
                             "status": 401, "detail": "the access token is missing"}))
    )
)]
#[get("/v1/clinic")]
pub async fn get(pool: web::Data<Pool>, caller: Caller) -> Result<web::Json<Clinic>, ApiError> {
    let tenant = caller.tenant;
    let clinic = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::clinics::get(conn, tenant)?)
    })
    .await?;
    Ok(web::Json(Clinic::for_caller(clinic, &caller)))
}

/// Change the clinic's contact phone or reminder hour (admins only).
///
/// A new reminder hour counts from the next reminder on: one already sent today is not sent again.
#[utoipa::path(
    tag = "clinic",
    request_body = ClinicPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The clinic as changed", body = Clinic),
        (status = 403, description = "Only an admin may change the clinic's settings", body = Problem,
            content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:forbidden", "title": "Your role may not do this",
                             "status": 403, "detail": "this operation is not open to your role"})),
        (status = 422, description = "A phone number or hour that is not valid", body = Problem,
            content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:validation", "title": "The request is not valid",
                             "status": 422, "detail": "2 fields are not valid", "errors": [
                {"field": "contact_phone", "message": "must be + and 6-15 digits (spaces and dashes allowed), such as +49 30 1234 5678"},
                {"field": "reminder_hour", "message": "must be between 0 and 23"}]}))
    )
)]
#[patch("/v1/clinic")]
pub async fn update(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(req): Json<ClinicPatch>,
) -> Result<web::Json<Clinic>, ApiError> {
    let changes = changes(req)?;
    let tenant = caller.tenant;
    let clinic = db::run(&pool, move |conn| {
        services::clinic::update(conn, tenant, &changes)
    })
    .await?;
    Ok(web::Json(Clinic::for_caller(clinic, &caller)))
}
