//! The symptom catalogue: the twelve defaults every clinic shares, and the clinic's own items.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::created;
use super::extract::{Json, Page};
use crate::db::{self, Pool};
use crate::domain::alerts::urgent_from_day;
use crate::domain::symptoms::{SymptomKind, is_code};
use crate::error::ApiError;
use crate::services::symptoms;
use crate::web::auth::Caller;

pub use crate::domain::symptoms::MAX_CLINIC_ITEMS;

#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    pub value: i16,
    pub label: &'static str,
    /// The day since treatment from which this answer alone raises an urgent alert, so that an
    /// app can tell the patient to call the clinic without the server (offline); null when it
    /// never does by itself. Taken from the alert rules the server runs.
    pub urgent_from_day: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Symptom {
    /// Stable code, used as the key in check-in scores.
    pub code: String,
    pub label: String,
    pub kind: SymptomKind,
    /// The answers, lowest first. Severity items use PRO-CTCAE's wording, asked about today
    /// ("at its worst today") rather than the past 7 days: a PRO-CTCAE-derived daily scale.
    pub answers: Vec<Answer>,
    /// True for the defaults every clinic shares; false for the clinic's own items.
    pub default: bool,
}

impl From<db::symptoms::Symptom> for Symptom {
    fn from(s: db::symptoms::Symptom) -> Self {
        let kind = s.kind;
        Symptom {
            answers: kind
                .answers()
                .iter()
                .enumerate()
                .map(|(value, &label)| Answer {
                    value: value as i16,
                    label,
                    urgent_from_day: urgent_from_day(&s.code, kind, value as i16),
                })
                .collect(),
            code: s.code,
            label: s.label,
            kind,
            default: s.clinic_id.is_none(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "tightness", "label": "Tight or dry-feeling skin", "kind": "severity"}))]
pub struct NewSymptom {
    /// 2-40 of a-z, 0-9 and _, starting with a letter; not a default's code.
    #[schema(pattern = r"^[a-z][a-z0-9_]{1,39}$")]
    pub code: String,
    /// Not blank, at most 120 characters.
    #[schema(max_length = 120, pattern = r"\S")]
    pub label: String,
    pub kind: SymptomKind,
}

/// The catalogue: the defaults, then the clinic's own items. Always one page.
#[utoipa::path(
    tag = "symptoms",
    security(("bearer" = [])),
    responses((status = 200, description = "The whole catalogue", body = Page<Symptom>))
)]
#[get("/v1/symptoms")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
) -> Result<web::Json<Page<Symptom>>, ApiError> {
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::symptoms::catalogue(conn, caller.tenant)?)
    })
    .await?;
    Ok(web::Json(Page::new(rows, None, Symptom::from)))
}

/// One item of the catalogue.
#[utoipa::path(
    tag = "symptoms",
    params(("code" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The item", body = Symptom))
)]
#[get("/v1/symptoms/{code}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    code: web::Path<String>,
) -> Result<web::Json<Symptom>, ApiError> {
    let code = code.into_inner();
    if !is_code(&code) {
        return Err(ApiError::NotFound);
    }
    let row = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::symptoms::get(conn, caller.tenant, &code)?)
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Add an item of the clinic's own. The defaults can't be changed.
#[utoipa::path(
    tag = "symptoms",
    request_body = NewSymptom,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = Symptom, headers(("Location" = String))),
        (status = 409, description = "The catalogue has an item with this code (a default, or the clinic's own), or the clinic has 50 items of its own already", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/symptoms")]
pub async fn create(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(req): Json<NewSymptom>,
) -> Result<HttpResponse, ApiError> {
    let item = symptoms::NewItem {
        code: req.code,
        label: req.label,
        kind: req.kind,
    };
    let row = db::run(&pool, move |conn| symptoms::add(conn, caller.tenant, item)).await?;
    Ok(created(
        format!("/v1/symptoms/{}", row.code),
        Symptom::from(row),
    ))
}
