//! Accounts that end: an admin deactivates and reactivates staff and issues one-time password
//! reset tokens; staff change their own password; an admin or the staff member lists and revokes
//! the staff member's sessions. Each ends the sessions it should at once (see `crate::web::auth::sessions`).

use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::Json;
use super::staff::StaffMember;
use crate::db::{self, Pool, Tenant};
use crate::domain::ids::{SessionId, StaffId};
use crate::error::ApiError;
use crate::services::accounts;
use crate::web::auth::sessions::LiveSessions;
use crate::web::auth::{self, Caller, Role};
use crate::web::limits::Limits;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "old-horse-battery-staple", "new_password": "maple-orbit-canvas-17"}))]
pub struct PasswordChange {
    pub current_password: String,
    /// 12-256 characters, and hard to guess (zxcvbn score 3 or more).
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// A one-time reset token, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    pub staff_id: Uuid,
    /// Hand it to the staff member, who redeems it at `POST /v1/auth/password-reset`. It works
    /// once, until `expires_at`; only its hash is stored.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "3q2-7wPeVg1Tz0m4kA0yWb4j0u0l6a2D8v1wHqN3cX8", "new_password": "maple-orbit-canvas-17"}))]
pub struct RedeemPasswordReset {
    pub token: String,
    /// 12-256 characters, and hard to guess (zxcvbn score 3 or more).
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// A session: one sign-in and every token refreshed from it. Never a token.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub id: Uuid,
    /// When the staff member signed in; the session ends 7 days later at the latest.
    pub started_at: DateTime<Utc>,
    /// When its tokens were last issued (the sign-in or the last refresh).
    pub last_used_at: DateTime<Utc>,
    /// When its refresh token expires unless refreshed.
    pub expires_at: DateTime<Utc>,
    /// The client's kind, from its User-Agent (`Mozilla/5.0`, `okhttp/4.12`), when it said.
    pub client: Option<String>,
    /// Whether this is the session of the access token asking.
    pub current: bool,
}

/// A staff member's live sessions, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<Session>,
}

/// Admins may act on any staff member of their clinic; a clinician only on themselves (anyone
/// else is answered as if they did not exist).
fn self_or_admin(caller: Caller, staff_id: Uuid) -> Result<(), ApiError> {
    match caller.role {
        Role::Admin => Ok(()),
        Role::Clinician if caller.id == staff_id => Ok(()),
        Role::Clinician => Err(ApiError::NotFound),
        Role::Patient => Err(ApiError::Forbidden),
    }
}

/// Deactivate a staff member: they can't sign in, and their sessions end at once.
///
/// Signing in as a deactivated account is answered as a wrong password. The clinic's last active
/// admin can't be deactivated.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deactivated (or already inactive)", body = StaffMember),
        (status = 409, description = "The staff member is the clinic's last active admin", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/staff/{id}/deactivate")]
pub async fn deactivate(
    pool: web::Data<Pool>,
    sessions: web::Data<LiveSessions>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let id = StaffId::from(id.into_inner());
    let staff = db::run(&pool, move |conn| {
        accounts::deactivate(conn, caller.tenant, id)
    })
    .await?;
    sessions.forget_all();
    Ok(web::Json(staff.into()))
}

/// Reactivate a staff member, who can then sign in again.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "Active", body = StaffMember))
)]
#[post("/v1/staff/{id}/reactivate")]
pub async fn reactivate(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let id = StaffId::from(id.into_inner());
    let staff = db::run(&pool, move |conn| {
        accounts::reactivate(conn, caller.tenant, id)
    })
    .await?;
    Ok(web::Json(staff.into()))
}

/// Change your own password.
///
/// The current password is required; the new one is checked as when the account was created.
/// Every other session of yours ends; this one continues.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "The current password is wrong, or the caller is a patient", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/v1/me/password")]
pub async fn change_password(
    pool: web::Data<Pool>,
    limits: web::Data<Limits>,
    sessions: web::Data<LiveSessions>,
    caller: Caller,
    req: HttpRequest,
    Json(body): Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let me = StaffId::from(caller.id);
    // Guessing the current password with a stolen access token is limited like signing in.
    limits.attempt(
        "password",
        crate::web::client_addr::of(&req),
        &me.to_string(),
    )?;
    db::run(&pool, move |conn| {
        let (current, new) = (&body.current_password, &body.new_password);
        accounts::change_password(
            conn,
            caller.tenant,
            me,
            current,
            new,
            caller.session.map(SessionId::from),
        )
    })
    .await?;
    sessions.forget_all();
    Ok(HttpResponse::NoContent().finish())
}

/// Issue a one-time password reset token for a staff member.
///
/// There is no email here: hand the token to the staff member, who sets a new password with it at
/// `POST /v1/auth/password-reset` within an hour. A new token replaces any unused one.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The token, shown only here", body = PasswordReset))
)]
#[post("/v1/staff/{id}/password-reset")]
pub async fn issue_password_reset(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<PasswordReset>, ApiError> {
    let admin = StaffId::from(caller.id);
    let staff_id = StaffId::from(id.into_inner());
    let issued = db::run(&pool, move |conn| {
        accounts::issue_reset(conn, caller.tenant, staff_id, admin)
    })
    .await?;
    Ok(web::Json(PasswordReset {
        staff_id: staff_id.uuid(),
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// Set a new password with a reset token an admin issued; no access token needed.
///
/// Every session of the account ends. A token works once; a refused new password leaves it usable.
#[utoipa::path(
    tag = "auth",
    request_body = RedeemPasswordReset,
    responses(
        (status = 204, description = "The password is set; sign in with it"),
        (status = 401, description = "The token is unknown, used or expired", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address; retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/v1/auth/password-reset")]
pub async fn redeem_password_reset(
    pool: web::Data<Pool>,
    limits: web::Data<Limits>,
    sessions: web::Data<LiveSessions>,
    req: HttpRequest,
    Json(body): Json<RedeemPasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let hash = auth::secret_hash(&body.token);
    let addr = crate::web::client_addr::of(&req);
    limits.attempt("password-reset", addr, &hex::encode(&hash))?;
    let staff = db::run(&pool, move |conn| {
        accounts::redeem_reset(conn, &hash, &body.new_password)
    })
    .await?;
    sessions.forget_all();
    // The audit trail records the staff member as the one who reset their password.
    req.extensions_mut().insert(Caller {
        id: staff.id.uuid(),
        role: staff.role.into(),
        tenant: Tenant::new(staff.clinic_id),
        session: None,
    });
    Ok(HttpResponse::NoContent().finish())
}

/// A staff member's sessions that can still be refreshed: an admin's view of anyone in the clinic,
/// or a clinician's of their own.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The live sessions, oldest first", body = SessionList))
)]
#[get("/v1/staff/{id}/sessions")]
pub async fn list_sessions(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<SessionList>, ApiError> {
    let staff_id = id.into_inner();
    self_or_admin(caller, staff_id)?;
    let staff_id = StaffId::from(staff_id);
    let rows = db::run(&pool, move |conn| {
        db::staff::get(conn, caller.tenant, staff_id)?;
        Ok::<_, ApiError>(db::sessions::of_staff(
            conn,
            caller.tenant,
            staff_id,
            Utc::now(),
        )?)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(|s| Session {
            current: caller.session == Some(s.id.uuid()),
            id: s.id.uuid(),
            started_at: s.started_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            client: s.client,
        })
        .collect();
    Ok(web::Json(SessionList { items }))
}

/// End one of a staff member's sessions: its refresh token and its access tokens stop working at
/// once. Ending an ended session again changes nothing.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Ended"))
)]
#[post("/v1/staff/{id}/sessions/{session_id}/revoke")]
pub async fn revoke_session(
    pool: web::Data<Pool>,
    sessions: web::Data<LiveSessions>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (staff_id, session_id) = path.into_inner();
    self_or_admin(caller, staff_id)?;
    let found = db::run(&pool, move |conn| {
        let (staff_id, session_id) = (StaffId::from(staff_id), SessionId::from(session_id));
        accounts::revoke_session(conn, caller.tenant, staff_id, session_id)
    })
    .await?;
    sessions.forget_all();
    if !found {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}
