//! SMART App Launch: the clinic's registered apps, their users' approvals, EHR launch contexts,
//! authorization codes (by their hash) and the access tokens issued (kept: the audit of what each
//! app was given, and what revokes it).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema_smart::{
    smart_app_assertions, smart_approvals, smart_apps, smart_codes, smart_launches, smart_tokens,
};
use crate::domain::ids::ClinicId;
use crate::domain::people::Role;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = smart_apps)]
pub struct App {
    pub id: Uuid,
    pub name: String,
    pub redirect_uris: Vec<Option<String>>,
    pub launch_url: Option<String>,
    pub client_type: String,
    pub jwks: Option<serde_json::Value>,
    pub scopes: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl App {
    /// Whether `uri` is one of the app's redirect URIs, exactly.
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().flatten().any(|u| u == uri)
    }
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &App) -> QueryResult<App> {
    diesel::insert_into(smart_apps::table)
        .values((smart_apps::clinic_id.eq(tenant.id()), new))
        .returning(App::as_returning())
        .get_result(conn)
}

pub fn list(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Vec<App>> {
    smart_apps::table
        .filter(smart_apps::clinic_id.eq(tenant.id()))
        .select(App::as_select())
        .order((smart_apps::created_at, smart_apps::id))
        .load(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<Option<App>> {
    smart_apps::table
        .filter(smart_apps::clinic_id.eq(tenant.id()))
        .filter(smart_apps::id.eq(id))
        .select(App::as_select())
        .first(conn)
        .optional()
}

/// An app by its `client_id`, of whichever clinic: the authorization and token endpoints' way
/// in, before a clinic is known.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<(Tenant, App)>> {
    let row: Option<(ClinicId, App)> = smart_apps::table
        .filter(smart_apps::id.eq(id))
        .select((smart_apps::clinic_id, App::as_select()))
        .first(conn)
        .optional()?;
    Ok(row.map(|(clinic, app)| (Tenant::new(clinic), app)))
}

/// Deletes the clinic's app with its approvals, launches, codes and tokens; false if none.
pub fn delete(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<bool> {
    let n = diesel::delete(
        smart_apps::table
            .filter(smart_apps::clinic_id.eq(tenant.id()))
            .filter(smart_apps::id.eq(id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// The scopes the user approved the app for, if they did.
pub fn approval(conn: &mut PgConnection, app: Uuid, user: Uuid) -> QueryResult<Option<String>> {
    smart_approvals::table
        .filter(smart_approvals::app_id.eq(app))
        .filter(smart_approvals::user_id.eq(user))
        .select(smart_approvals::scopes)
        .first(conn)
        .optional()
}

pub fn approve(
    conn: &mut PgConnection,
    app: Uuid,
    user: Uuid,
    scopes: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(smart_approvals::table)
        .values((
            smart_approvals::app_id.eq(app),
            smart_approvals::user_id.eq(user),
            smart_approvals::scopes.eq(scopes),
            smart_approvals::approved_at.eq(now),
        ))
        .on_conflict((smart_approvals::app_id, smart_approvals::user_id))
        .do_update()
        .set((
            smart_approvals::scopes.eq(scopes),
            smart_approvals::approved_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// An app a user approved: its id and name, the scopes, and when.
#[derive(Debug, Clone, Queryable)]
pub struct Approval {
    pub app_id: Uuid,
    pub name: String,
    pub scopes: String,
    pub approved_at: DateTime<Utc>,
}

/// The apps of the clinic the user approved, the latest first.
pub fn approvals(
    conn: &mut PgConnection,
    tenant: Tenant,
    user: Uuid,
) -> QueryResult<Vec<Approval>> {
    smart_approvals::table
        .inner_join(smart_apps::table)
        .filter(smart_apps::clinic_id.eq(tenant.id()))
        .filter(smart_approvals::user_id.eq(user))
        .select((
            smart_apps::id,
            smart_apps::name,
            smart_approvals::scopes,
            smart_approvals::approved_at,
        ))
        .order((smart_approvals::approved_at.desc(), smart_apps::id))
        .load(conn)
}

/// Records a confidential app's assertion `jti` until it expires: false if the app used it
/// before (a replay). Expired ones are dropped on the way.
pub fn take_jti(
    conn: &mut PgConnection,
    app: Uuid,
    jti: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::delete(
        smart_app_assertions::table.filter(smart_app_assertions::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)?;
    let n = diesel::insert_into(smart_app_assertions::table)
        .values((
            smart_app_assertions::app_id.eq(app),
            smart_app_assertions::jti.eq(jti),
            smart_app_assertions::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = smart_launches)]
pub struct Launch {
    pub id: Uuid,
    pub app_id: Uuid,
    pub staff_id: Uuid,
    pub patient_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

pub fn insert_launch(conn: &mut PgConnection, launch: &Launch) -> QueryResult<()> {
    diesel::delete(smart_launches::table.filter(smart_launches::expires_at.lt(diesel::dsl::now)))
        .execute(conn)?;
    diesel::insert_into(smart_launches::table)
        .values(launch)
        .execute(conn)?;
    Ok(())
}

/// A launch of this app that has not expired.
pub fn launch(conn: &mut PgConnection, app: Uuid, id: Uuid) -> QueryResult<Option<Launch>> {
    smart_launches::table
        .filter(smart_launches::id.eq(id))
        .filter(smart_launches::app_id.eq(app))
        .filter(smart_launches::expires_at.gt(diesel::dsl::now))
        .select(Launch::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = smart_codes)]
pub struct Code {
    pub code_hash: Vec<u8>,
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub patient_id: Option<Uuid>,
    pub scope: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

pub fn insert_code(conn: &mut PgConnection, code: &Code) -> QueryResult<()> {
    // Codes a day past their expiry can't be reused usefully any more: dropped on the way.
    let old = Utc::now() - chrono::Duration::days(1);
    diesel::delete(smart_codes::table.filter(smart_codes::expires_at.lt(old))).execute(conn)?;
    diesel::insert_into(smart_codes::table)
        .values(code)
        .execute(conn)?;
    Ok(())
}

/// Takes a code: the row as it was, locked, and marked used from now on.
pub fn take_code(
    conn: &mut PgConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<Code>> {
    let code: Option<Code> = smart_codes::table
        .filter(smart_codes::code_hash.eq(hash))
        .select(Code::as_select())
        .for_update()
        .first(conn)
        .optional()?;
    if code.as_ref().is_some_and(|c| c.used_at.is_none()) {
        diesel::update(smart_codes::table.filter(smart_codes::code_hash.eq(hash)))
            .set(smart_codes::used_at.eq(now))
            .execute(conn)?;
    }
    Ok(code)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = smart_tokens)]
pub struct Token {
    pub id: Uuid,
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub patient_id: Option<Uuid>,
    pub scope: String,
    pub code_hash: Vec<u8>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub fn insert_token(conn: &mut PgConnection, token: &Token) -> QueryResult<()> {
    diesel::insert_into(smart_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

/// Revokes the tokens issued from a code (it was used twice).
pub fn revoke_code_tokens(
    conn: &mut PgConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        smart_tokens::table
            .filter(smart_tokens::code_hash.eq(hash))
            .filter(smart_tokens::revoked_at.is_null()),
    )
    .set(smart_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Whether a token of the clinic's app stands: issued, not revoked, not expired.
pub fn token_live(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        smart_tokens::table
            .inner_join(smart_apps::table)
            .filter(smart_apps::clinic_id.eq(tenant.id()))
            .filter(smart_tokens::id.eq(id))
            .filter(smart_tokens::revoked_at.is_null())
            .filter(smart_tokens::expires_at.gt(diesel::dsl::now)),
    ))
    .get_result(conn)
}

/// The app's tokens, newest first, at most `limit`.
pub fn tokens(
    conn: &mut PgConnection,
    tenant: Tenant,
    app: Uuid,
    limit: i64,
) -> QueryResult<Vec<Token>> {
    smart_tokens::table
        .inner_join(smart_apps::table)
        .filter(smart_apps::clinic_id.eq(tenant.id()))
        .filter(smart_tokens::app_id.eq(app))
        .select(Token::as_select())
        .order((smart_tokens::issued_at.desc(), smart_tokens::id))
        .limit(limit)
        .load(conn)
}

/// Revokes the app's tokens (one, or all when `token` is None) and, for all, the approvals its
/// users gave, or only `user`'s: the next authorization asks again. How many tokens it revoked.
pub fn revoke(
    conn: &mut PgConnection,
    app: Uuid,
    token: Option<Uuid>,
    user: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut tokens = diesel::update(smart_tokens::table)
        .filter(smart_tokens::app_id.eq(app))
        .filter(smart_tokens::revoked_at.is_null())
        .into_boxed();
    if let Some(token) = token {
        tokens = tokens.filter(smart_tokens::id.eq(token));
    }
    if let Some(user) = user {
        tokens = tokens.filter(smart_tokens::user_id.eq(user));
    }
    let n = tokens.set(smart_tokens::revoked_at.eq(now)).execute(conn)?;
    if token.is_none() {
        let mut approvals = diesel::delete(smart_approvals::table)
            .filter(smart_approvals::app_id.eq(app))
            .into_boxed();
        if let Some(user) = user {
            approvals = approvals.filter(smart_approvals::user_id.eq(user));
        }
        approvals.execute(conn)?;
    }
    Ok(n)
}
