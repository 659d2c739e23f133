//! The FHIR R4 API under `/fhir/R4`: the CapabilityStatement, and reads and searches of the
//! clinic's resources, for admins and clinicians (as the REST API's clinical reads) and for the
//! clinic's registered system clients (SMART Backend Services). Patients are refused (403): FHIR
//! serves the clinic's systems, and a patient has `/v1/patients/{id}/export`.
//!
//! Every answer is `application/fhir+json`, and every failure an `OperationOutcome` (not a
//! problem+json as under `/v1`: FHIR clients parse OperationOutcome) with the status the REST API
//! gives the same failure.

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, get, web};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::fhir::{Cursor, Filter};
use crate::db::{self, Pool, Tenant};
use crate::domain::smart::{self as scopes, Context, Scope};
use crate::error::ApiError;
use crate::fhir::fetch::{self, Entry};
use crate::fhir::kind::Kind;
use crate::fhir::search as query;
use crate::fhir::{BASE, JSON, resources};
use crate::web::auth::{AppClaims, Caller, Keys, Role, SystemClaims, SystemClient};

/// A failure, answered as a FHIR OperationOutcome with the REST API's status and headers.
#[derive(Debug)]
pub struct FhirError(pub ApiError);

impl std::fmt::Display for FhirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ApiError> for FhirError {
    fn from(e: ApiError) -> Self {
        FhirError(e)
    }
}

impl From<crate::db::Error> for FhirError {
    fn from(e: crate::db::Error) -> Self {
        FhirError(e.into())
    }
}

impl ResponseError for FhirError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.0.problem();
        // The REST API's answer gives the headers (WWW-Authenticate, Retry-After, Allow).
        let mut res = HttpResponse::build(self.status_code());
        for (name, value) in self.0.error_response().headers() {
            if name != header::CONTENT_TYPE {
                res.insert_header((name.clone(), value.clone()));
            }
        }
        let mut detail = problem.detail;
        for e in problem.errors {
            detail.push_str(&format!("; {}: {}", e.field, e.message));
        }
        res.content_type(JSON)
            .json(resources::operation_outcome(problem.status, &detail))
    }
}

/// A FHIR resource, a searchset Bundle or an OperationOutcome (FHIR R4 JSON).
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object, example = json!({
    "resourceType": "Patient", "id": "0b6f0d5e-9a4e-4c1b-8d55-6a2a1f0e7c11",
    "meta": {"lastUpdated": "2026-11-21T08:30:00.000000Z"},
    "identifier": [{"use": "usual", "system": "urn:aftercare:clinic:5c1e...:record-number", "value": "MRN-0042"}],
    "active": true
}))]
pub struct FhirResource(pub Value);

/// What went wrong (FHIR R4 JSON): one issue, with FHIR's issue type and what happened.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object, example = json!({
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "not-found", "diagnostics": "nothing exists here, or it is not yours to see"}]
}))]
pub struct OperationOutcome(pub Value);

/// Who calls the FHIR API: a staff member, a system client of the clinic (whose token works
/// on `/fhir` only), or a SMART app with the scopes a user granted it (and the patient in context).
#[derive(Debug, Clone)]
pub enum Reader {
    Staff(Caller),
    System { client: Uuid, tenant: Tenant },
    App(AppGrant),
}

/// What a SMART app's token lets it read: the scopes granted, in a patient's context (their
/// compartment only) or the user's (the clinic's data, as the user's role allows).
#[derive(Debug, Clone)]
pub struct AppGrant {
    pub tenant: Tenant,
    pub patient: Option<Uuid>,
    pub scopes: Vec<Scope>,
}

impl AppGrant {
    /// Whether the grant reads (or searches) this type: a patient context's scopes when there is
    /// a patient, the user's otherwise.
    pub(super) fn allows(&self, kind: Kind, searching: bool) -> Result<(), FhirError> {
        let context = match self.patient {
            Some(_) => Context::Patient,
            None => Context::User,
        };
        if scopes::allows(&self.scopes, context, kind.as_str(), searching) {
            Ok(())
        } else {
            Err(FhirError(ApiError::Forbidden))
        }
    }

    /// Whether a resource (about `patient`, if anyone) is in the token's compartment: any of the
    /// clinic's for a user's token; the patient's own (and the questionnaires) for a patient's.
    pub(super) fn holds(&self, kind: Kind, patient: Option<Uuid>) -> bool {
        match self.patient {
            None => true,
            Some(p) => patient == Some(p) || kind == Kind::Questionnaire,
        }
    }
}

impl Reader {
    /// The clinic of a staff member of either role, of a system client or of an app.
    pub fn reader(&self) -> Tenant {
        match self {
            Reader::Staff(caller) => caller.tenant,
            Reader::System { tenant, .. } => *tenant,
            Reader::App(grant) => grant.tenant,
        }
    }

    /// An admin, or a system client: who may export; their id and clinic. An app may not (403).
    pub fn exporter(&self) -> Result<(Uuid, Tenant), FhirError> {
        match self {
            Reader::Staff(caller) => Ok((caller.id, caller.tenant)),
            Reader::System { client, tenant } => Ok((*client, *tenant)),
            Reader::App(_) => Err(FhirError(ApiError::Forbidden)),
        }
    }
}

/// A SMART app's token: its grant, if the token stands (its row neither revoked nor expired).
async fn app_reader(
    req: &HttpRequest,
    claims: crate::web::auth::AppClaims,
) -> Result<Reader, FhirError> {
    let pool = req
        .app_data::<web::Data<Pool>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no pool")))?;
    let tenant = Tenant::new(claims.clinic.into());
    let jti = claims.jti;
    let live = db::run(pool, move |conn| {
        Ok::<_, ApiError>(db::smart::token_live(conn, tenant, jti)?)
    })
    .await?;
    if !live {
        return Err(ApiError::Unauthorized("the app's token was revoked or has expired").into());
    }
    // For the audit trail: the user who authorized the app.
    req.extensions_mut().insert(Caller {
        id: claims.sub,
        role: claims.role,
        tenant,
        session: None,
    });
    Ok(Reader::App(AppGrant {
        tenant,
        patient: claims.patient,
        scopes: scopes::parse_scopes(&claims.scope).unwrap_or_default(),
    }))
}

impl FromRequest for Reader {
    type Error = FhirError;
    type Future = LocalBoxFuture<'static, Result<Reader, FhirError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let system = req
                .app_data::<web::Data<Keys>>()
                .zip(crate::web::auth::bearer(&req))
                .and_then(|(keys, token)| keys.verify_as::<SystemClaims>(token));
            let app = req
                .app_data::<web::Data<Keys>>()
                .zip(crate::web::auth::bearer(&req))
                .and_then(|(keys, token)| keys.verify_as::<AppClaims>(token));
            if let Some(claims) = app {
                return app_reader(&req, claims).await;
            }
            let Some(claims) = system else {
                let caller = Caller::from_request(&req, &mut Payload::None).await?;
                return Ok(Reader::Staff(caller));
            };
            let pool = req
                .app_data::<web::Data<Pool>>()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no pool")))?;
            let (client, tenant) = (claims.sub, Tenant::new(claims.clinic.into()));
            let exists = db::run(pool, move |conn| {
                Ok::<_, ApiError>(db::fhir_clients::exists(conn, tenant, client)?)
            })
            .await?;
            if !exists {
                return Err(ApiError::Unauthorized("the token's client was deleted").into());
            }
            // For the audit trail, which records who asked.
            let caller = Caller {
                id: client,
                role: Role::Admin,
                tenant,
                session: None,
            };
            req.extensions_mut().insert(caller);
            req.extensions_mut().insert(SystemClient);
            Ok(Reader::System { client, tenant })
        })
    }
}

fn kind_of(name: &str) -> Result<Kind, FhirError> {
    Kind::parse(name).ok_or(FhirError(ApiError::NotFound))
}

pub(super) fn fhir_json(body: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type(JSON).json(body)
}

/// The FHIR base of this server as its clients reach it (`<AFTERCARE_PUBLIC_URL>/fhir/R4`).
pub fn base_url(req: &HttpRequest) -> String {
    format!("{}{BASE}", public_url(req))
}

/// `AFTERCARE_PUBLIC_URL` (or, for the demo and tests, the address the service listens on); never
/// the request's `Host` or forwarded headers, which any caller can forge.
pub fn public_url(req: &HttpRequest) -> &str {
    // The app always holds it (startup.rs); were it missing, URLs would be relative, not forged.
    req.app_data::<web::Data<crate::config::PublicUrl>>()
        .map_or("", |u| u.get_ref().as_str())
}

/// What this server serves: its CapabilityStatement (no token needed).
#[utoipa::path(
    tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/metadata")]
pub async fn metadata(req: HttpRequest) -> HttpResponse {
    fhir_json(&resources::capability_statement(&base_url(&req)))
}

/// Reads one resource of the clinic: `Patient`, `Procedure` (a treatment), `Questionnaire` (a
/// version of the check-in's items, `{clinic id}-{version}`), `QuestionnaireResponse` (a check-in),
/// `Observation` (a symptom's answer in a check-in, or an outcome's GAIS, satisfaction or Goodman &
/// Baron grade),
/// `AdverseEvent` (a complication), `Group` (a protocol's cohort) or `Media` (a photo sent with a
/// check-in: its `content.url` names the `Binary` that holds its bytes).
#[utoipa::path(
    tag = "fhir",
    params(
        ("type" = String, Path, description = "The resource type", example = "Patient"),
        ("id" = String, Path, description = "The resource's id"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "The resource", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/{type}/{id}")]
pub async fn read(
    pool: web::Data<Pool>,
    reader: Reader,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let tenant = reader.reader();
    let (kind, id) = path.into_inner();
    let kind = kind_of(&kind)?;
    if let Reader::App(grant) = &reader {
        grant.allows(kind, false)?;
    }
    let base = base_url(&req);
    let entry = db::run(&pool, move |conn| {
        fetch::read(conn, tenant, kind, &id, &base)
    })
    .await?;
    // Another patient's resource is, to a patient's token, one that does not exist.
    if let Reader::App(grant) = &reader
        && !grant.holds(kind, entry.patient)
    {
        return Err(FhirError(ApiError::NotFound));
    }
    crate::api::trail::shown(&req, entry.patient);
    Ok(fhir_json(&entry.resource))
}

/// Searches the clinic's resources of one type. Each type takes the parameters its
/// CapabilityStatement entry lists (`GET /fhir/R4/metadata`), and no others: a parameter it does
/// not support is a 400 OperationOutcome, unless the request says `Prefer: handling=lenient`, when it
/// is ignored and left out of the Bundle's `self` link. Repeated parameters must all hold;
/// comma-separated values are alternatives. The answer is a `searchset` Bundle in the order of the
/// resources' last update, with a `next` link (the same search, one page on) while there are more,
/// and `total` when the first page holds every match.
#[utoipa::path(
    tag = "fhir",
    params(
        ("type" = String, Path, description = "The resource type", example = "Observation"),
        ("Prefer" = Option<String>, Header, description = "`handling=lenient`: ignore the search parameters the type does not support (by default they are a 400)"),
        ("_id" = Option<String>, Query, description = "Patient: the patient's id"),
        ("identifier" = Option<String>, Query, description = "Patient: the record number, `system|value` or the value alone", example = "MRN-0042"),
        ("patient" = Option<String>, Query, description = "Observation, QuestionnaireResponse, Procedure, Media: the patient, `Patient/{id}` or the id"),
        ("subject" = Option<String>, Query, description = "Observation, QuestionnaireResponse, Procedure, AdverseEvent, Media: the patient, `Patient/{id}` or the id"),
        ("code" = Option<String>, Query, description = "Observation: `system|code` or the code alone (a symptom item, ours or the clinic's own, or an outcome)", example = "redness"),
        ("url" = Option<String>, Query, description = "Questionnaire: its canonical URL, or `url|version`"),
        ("version" = Option<String>, Query, description = "Questionnaire: the version; several separated by commas", example = "1"),
        ("category" = Option<String>, Query, description = "Observation: `survey` or `exam`"),
        ("date" = Option<String>, Query, description = "Observation (effective), Procedure (performed), AdverseEvent (onset): a prefix (eq, gt, ge, lt, le, sa, eb; eq if none) and a date (YYYY, YYYY-MM, YYYY-MM-DD: UTC days) or an RFC 3339 instant", example = "ge2026-11-20"),
        ("authored" = Option<String>, Query, description = "QuestionnaireResponse: as `date`", example = "ge2026-11-20"),
        ("created" = Option<String>, Query, description = "Media: when the photo was received, as `date`", example = "ge2026-11-20"),
        ("_lastUpdated" = Option<String>, Query, description = "Every type: as `date`", example = "gt2026-11-20T00:00:00Z"),
        ("_count" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Resources per page, 1-200 (default 50)"),
        ("_cursor" = Option<String>, Query, description = "Where the page starts: after the resource a `next` link names (opaque; only one this server gave out)"),
        ("_offset" = Option<i64>, Query, minimum = 0, maximum = 10000000, description = "How many resources the page skips (after `_cursor`, if given)"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/{type}")]
pub async fn search(
    pool: web::Data<Pool>,
    reader: Reader,
    kind: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let tenant = reader.reader();
    let kind = kind_of(&kind)?;
    let grant = match &reader {
        Reader::App(grant) => {
            grant.allows(kind, true)?;
            Some(grant.clone())
        }
        _ => None,
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let prefer = req.headers().get("prefer").and_then(|v| v.to_str().ok());
    let handling = query::Handling::from_prefer(prefer);
    let wanted = query::parse(kind, tenant.id().uuid(), &pairs, handling).map_err(|e| {
        ApiError::BadRequest(format!("a search parameter is not valid: {e}"), vec![])
    })?;
    let filter = Filter {
        patient: grant.as_ref().and_then(|g| g.patient),
        from: wanted.window.from,
        to: wanted.window.to,
        criteria: wanted.criteria.clone(),
        seen: None,
        after: Some(wanted.after.clone().unwrap_or_else(Cursor::start)),
        offset: wanted.offset,
        limit: wanted.count + 1,
    };
    let base = base_url(&req);
    let fhir_base = base.clone();
    let mut entries = db::run(&pool, move |conn| {
        fetch::page(conn, tenant, kind, filter, &fhir_base)
    })
    .await?;
    if let Some(grant) = &grant {
        entries.retain(|e| grant.holds(kind, e.patient));
    }
    let more = entries.len() as i64 > wanted.count;
    entries.truncate(wanted.count as usize);
    crate::api::trail::shown(&req, entries.iter().filter_map(|e| e.patient));
    let link = |search: &query::Search| {
        format!("{base}/{}?{}", kind.as_str(), query::query_string(search))
    };
    // The next page starts after this one's last resource: as fast deep into a clinic's data as at
    // its start, which an offset is not.
    let next = entries.last().filter(|_| more).map(|last| {
        link(&query::Search {
            after: Some(last.key.clone()),
            offset: 0,
            ..wanted.clone()
        })
    });
    // Known without counting when the first page holds them all (an empty search, say).
    let first = wanted.after.is_none() && wanted.offset == 0;
    let total = (first && next.is_none()).then_some(entries.len());
    let entries = entries
        .into_iter()
        .map(|e: Entry| (e.path(), e.resource))
        .collect();
    Ok(fhir_json(&resources::searchset(
        &base,
        entries,
        &link(&wanted),
        next,
        total,
    )))
}
