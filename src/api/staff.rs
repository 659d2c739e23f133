//! Staff accounts, managed by a clinic's admins.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::created;
use super::extract::{Json, Page, PageParams};
use crate::db::{self, Cursor, Pool, into_page};
use crate::domain::ids::StaffId;
use crate::domain::people::StaffRole;
use crate::error::ApiError;
use crate::services::{self, staff::NewStaff};
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "dr.lee@clinic.example", "password": "maple-orbit-canvas-17", "role": "clinician", "name": "Dr. Lee"
}))]
pub struct NewStaffRequest {
    /// Unique across clinics, compared without case.
    #[schema(max_length = 254, pattern = r"^[^\s@]+@[^\s.][^\s]*\.[^\s]*[^\s.]$")]
    pub email: String,
    /// 12-256 characters, and hard to guess (zxcvbn score 3 or more).
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    pub role: StaffRole,
    /// Not blank, at most 120 characters, without control, zero-width or text-direction characters.
    #[schema(
        max_length = 120,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*$"
    )]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub id: Uuid,
    pub email: String,
    pub role: StaffRole,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// False once an admin deactivated the account: it can't sign in.
    pub active: bool,
}

impl From<db::staff::Staff> for StaffMember {
    fn from(s: db::staff::Staff) -> Self {
        StaffMember {
            id: s.id.uuid(),
            email: s.email,
            role: s.role,
            name: s.name,
            created_at: s.created_at,
            active: s.active,
        }
    }
}

impl From<NewStaffRequest> for NewStaff {
    fn from(r: NewStaffRequest) -> Self {
        NewStaff {
            email: r.email,
            password: r.password,
            role: r.role,
            name: r.name,
        }
    }
}

/// Add a clinician or an admin to the clinic.
#[utoipa::path(
    tag = "staff",
    request_body = NewStaffRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = StaffMember, headers(("Location" = String))),
        (status = 409, description = "The email is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/staff")]
pub async fn create(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(req): Json<NewStaffRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = NewStaff::from(req);
    let staff = db::run(&pool, move |conn| {
        services::staff::create(conn, caller.tenant, &new)
    })
    .await?;
    Ok(created(
        format!("/v1/staff/{}", staff.id),
        StaffMember::from(staff),
    ))
}

/// The clinic's staff, oldest first.
#[utoipa::path(
    tag = "staff",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of staff", body = Page<StaffMember>))
)]
#[get("/v1/staff")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<StaffMember>>, ApiError> {
    let page = params.request()?;
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::staff::page(conn, caller.tenant, page)?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |s| Cursor {
        at: s.created_at,
        id: s.id.uuid(),
    });
    Ok(web::Json(Page::new(rows, next, StaffMember::from)))
}

/// One staff member.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The staff member", body = StaffMember))
)]
#[get("/v1/staff/{id}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let id = id.into_inner();
    let staff = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::staff::get(conn, caller.tenant, StaffId::from(id))?)
    })
    .await?;
    Ok(web::Json(staff.into()))
}
