//! Treatment protocols: what a clinic does, and on which days after it the patient checks in
//! (and is asked for a photo).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use uuid::Uuid;

use super::extract::created;
use super::extract::{Json, Page, PageParams};
use crate::db::{self, Cursor, Pool, into_page};
use crate::domain::Invalid;
use crate::domain::codes::{self, Area, Procedure};
use crate::domain::ids::ProtocolId;
use crate::domain::photos::{MAX_PHOTO_DAYS, normalize_photo_days};
use crate::domain::schedule::{MAX_SCHEDULE_DAY, default_check_in_days, normalize_check_in_days};
use crate::domain::treatment::{check_needle_depth, check_series};
use crate::error::ApiError;
use crate::services::protocols;
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Face 1.0 mm", "procedure": "microneedling", "needle_depth_mm": 1.0, "areas": ["face"],
    "sessions_planned": 3, "interval_days": 28, "check_in_days": [0, 1, 2, 3, 4, 5, 6, 7, 14, 21, 28],
    "photo_days": [0, 3, 7, 28],
    "aftercare_instructions": "No makeup for 24 hours; sunscreen every day."
}))]
pub struct NewProtocol {
    /// Unique within the clinic; not blank, at most 120 characters.
    #[schema(max_length = 120, pattern = r"\S")]
    pub name: String,
    pub procedure: Procedure,
    /// Needle depth in millimetres, more than 0 and at most 3.
    #[schema(exclusive_minimum = 0.0, maximum = 3.0)]
    pub needle_depth_mm: f64,
    #[schema(min_items = 1)]
    pub areas: Vec<Area>,
    /// Sessions in the series, 1-20.
    #[schema(minimum = 1, maximum = 20)]
    pub sessions_planned: i32,
    /// Days between sessions, 0-365.
    #[schema(minimum = 0, maximum = 365)]
    pub interval_days: i32,
    #[schema(schema_with = check_in_days_schema)]
    pub check_in_days: Option<Vec<i32>>,
    #[serde(default)]
    #[schema(schema_with = photo_days_schema)]
    pub photo_days: Option<Vec<i32>>,
    /// At most 10000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub aftercare_instructions: String,
}

/// The schedule: 1-100 days since treatment, each 0-365 (repeats count once).
fn check_in_days_schema() -> utoipa::openapi::Array {
    days_schema(
        Some(1),
        100,
        "Days since treatment on which a check-in is due (0-365). Default: every day 0-14, \
         then 21 and 28.",
    )
}

/// The photo days: at most 20 days since treatment, each 0-365 (repeats count once).
fn photo_days_schema() -> utoipa::openapi::Array {
    days_schema(
        None,
        MAX_PHOTO_DAYS,
        "Days since treatment (0-365, at most 20) on which the app asks the patient for a \
         photo with the check-in; a photo may be added on any day. Default: none.",
    )
}

/// A list of days since treatment, each 0-365, or null for the default.
fn days_schema(min: Option<usize>, max: usize, description: &str) -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(0))
                .maximum(Some(MAX_SCHEDULE_DAY)),
        )
        .min_items(min)
        .max_items(Some(max))
        .description(Some(description))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Protocol {
    pub id: Uuid,
    pub name: String,
    pub procedure: Procedure,
    pub needle_depth_mm: f64,
    pub areas: Vec<Area>,
    pub sessions_planned: i32,
    pub interval_days: i32,
    pub check_in_days: Vec<i32>,
    /// Days since treatment on which a photo is asked for, ascending (empty: none).
    pub photo_days: Vec<i32>,
    pub aftercare_instructions: String,
    pub created_at: DateTime<Utc>,
}

impl From<db::protocols::Protocol> for Protocol {
    fn from(p: db::protocols::Protocol) -> Self {
        Protocol {
            id: p.id.uuid(),
            name: p.name,
            procedure: p.procedure,
            needle_depth_mm: p.needle_depth_mm,
            areas: p.areas.into_iter().flatten().collect(),
            sessions_planned: p.sessions_planned,
            interval_days: p.interval_days,
            check_in_days: p.check_in_days.into_iter().flatten().collect(),
            photo_days: p.photo_days.into_iter().flatten().collect(),
            aftercare_instructions: p.aftercare_instructions,
            created_at: p.created_at,
        }
    }
}

fn validate(req: NewProtocol) -> Result<db::protocols::Protocol, Invalid> {
    let mut invalid = Invalid::default();
    let name = crate::domain::text::trim(&req.name).to_string();
    invalid.check(
        (1..=120).contains(&name.chars().count()),
        "name",
        "must be 1-120 characters",
    );
    check_needle_depth(&mut invalid, "needle_depth_mm", req.needle_depth_mm);
    invalid.check(
        !req.areas.is_empty(),
        "areas",
        "must name at least one area",
    );
    check_series(&mut invalid, req.sessions_planned, req.interval_days);
    let days = req.check_in_days.unwrap_or_else(default_check_in_days);
    let days = normalize_check_in_days(&mut invalid, "check_in_days", &days);
    invalid.check(
        days.len() <= 100,
        "check_in_days",
        "must name at most 100 days",
    );
    let photo_days = normalize_photo_days(
        &mut invalid,
        "photo_days",
        req.photo_days.as_deref().unwrap_or_default(),
    );
    invalid.check(
        req.aftercare_instructions.chars().count() <= 10_000,
        "aftercare_instructions",
        "must be at most 10000 characters",
    );
    invalid.into_result()?;
    Ok(db::protocols::Protocol {
        id: ProtocolId::new_v4(),
        name,
        procedure: req.procedure,
        needle_depth_mm: req.needle_depth_mm,
        areas: codes::stored(&req.areas),
        sessions_planned: req.sessions_planned,
        interval_days: req.interval_days,
        check_in_days: days.into_iter().map(Some).collect(),
        aftercare_instructions: req.aftercare_instructions,
        created_at: Utc::now(),
        photo_days: photo_days.into_iter().map(Some).collect(),
    })
}

/// Create a protocol.
#[utoipa::path(
    tag = "protocols",
    request_body = NewProtocol,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Protocol, headers(("Location" = String))),
        (status = 409, description = "The clinic has a protocol of this name", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/protocols")]
pub async fn create(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(req): Json<NewProtocol>,
) -> Result<HttpResponse, ApiError> {
    let protocol = validate(req)?;
    let protocol = db::run(&pool, move |conn| {
        protocols::create(conn, caller.tenant, &protocol)
    })
    .await?;
    Ok(created(
        format!("/v1/protocols/{}", protocol.id),
        Protocol::from(protocol),
    ))
}

/// The clinic's protocols, oldest first.
#[utoipa::path(
    tag = "protocols",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of protocols", body = Page<Protocol>))
)]
#[get("/v1/protocols")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<Protocol>>, ApiError> {
    let page = params.request()?;
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::protocols::page(conn, caller.tenant, page)?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |p| Cursor {
        at: p.created_at,
        id: p.id.uuid(),
    });
    Ok(web::Json(Page::new(rows, next, Protocol::from)))
}

/// One protocol.
#[utoipa::path(
    tag = "protocols",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The protocol", body = Protocol))
)]
#[get("/v1/protocols/{id}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Protocol>, ApiError> {
    let id = id.into_inner();
    let protocol = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::protocols::get(
            conn,
            caller.tenant,
            ProtocolId::from(id),
        )?)
    })
    .await?;
    Ok(web::Json(protocol.into()))
}
