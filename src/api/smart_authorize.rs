//! SMART App Launch's authorization endpoint and its consent: `GET /fhir/R4/auth/authorize`
//! checks an app's request and sends the browser to the consent page (the dashboard's, whose
//! signed-in user decides through `POST /v1/smart/authorize`), or back to the app with an error
//! (RFC 6749, 4.1.2.1). An unknown client or redirect URI is never redirected to: a 400.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::Json;
use super::fhir::base_url;
use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::services::smart::{self as service, Decision, Outcome, Refusal, Request};
use crate::web::auth::Caller;

/// Where the browser goes to decide: the dashboard's consent page, with the request as it came.
pub const CONSENT_PAGE: &str = "/dashboard/#/authorize";

fn request_of(pairs: &[(String, String)]) -> Request {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    Request {
        response_type: field("response_type").unwrap_or_default(),
        client_id: field("client_id").unwrap_or_default(),
        redirect_uri: field("redirect_uri").unwrap_or_default(),
        scope: field("scope").unwrap_or_default(),
        state: field("state"),
        aud: field("aud").unwrap_or_default(),
        code_challenge: field("code_challenge").unwrap_or_default(),
        code_challenge_method: field("code_challenge_method").unwrap_or_default(),
        launch: field("launch"),
    }
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

/// SMART App Launch's authorization request (response_type `code`, PKCE S256 required). A 303 to
/// the consent page (`/dashboard/#/authorize?...`, where the signed-in clinician or patient
/// decides), or back to the app's `redirect_uri` with `error` and `state` (an unsupported
/// response type, an `aud` that is not this FHIR base, no or `plain` PKCE, a scope beyond the
/// app's, an unknown or expired `launch`). An unknown `client_id` or a `redirect_uri` the app did
/// not register: a 400 problem, never a redirect.
#[utoipa::path(
    tag = "smart",
    params(
        ("response_type" = String, Query, max_length = 20, description = "`code`"),
        ("client_id" = String, Query, max_length = 64, description = "The app's id"),
        ("redirect_uri" = String, Query, max_length = 500, description = "One of the app's redirect URIs, exactly"),
        ("scope" = String, Query, max_length = 1000, description = "Space-separated scopes within the app's"),
        ("state" = Option<String>, Query, max_length = 500, description = "Returned to the app as given"),
        ("aud" = String, Query, max_length = 500, description = "This FHIR base URL"),
        ("code_challenge" = String, Query, max_length = 43, description = "PKCE: base64url(SHA-256(code_verifier))"),
        ("code_challenge_method" = String, Query, max_length = 10, description = "`S256` (`plain` is refused)"),
        ("launch" = Option<String>, Query, max_length = 64, description = "An EHR launch's id"),
    ),
    responses(
        (status = 303, description = "To the consent page, or back to the app with an error", headers(("Location" = String))),
        (status = 400, description = "An unknown client_id or an unregistered redirect_uri: nothing is redirected", content_type = "application/problem+json", body = crate::error::Problem),
    )
)]
#[get("/fhir/R4/auth/authorize")]
pub async fn authorize(pool: web::Data<Pool>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let request = request_of(&pairs);
    let base = base_url(&req);
    let checked = {
        let request = request.clone();
        db::run(&pool, move |conn| {
            Ok::<_, ApiError>(service::check(conn, &request, &base).map(|_| ()))
        })
        .await?
    };
    match checked {
        Ok(()) => Ok(see_other(&format!("{CONSENT_PAGE}?{}", req.query_string()))),
        Err(Refusal::Shown(why)) => Err(ApiError::BadRequest(why, vec![])),
        Err(Refusal::Redirected { error, description }) => Ok(see_other(&service::redirect(
            &request,
            &[("error", error), ("error_description", &description)],
        ))),
    }
}

/// The authorization request, as the consent page passes it on, and the user's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "response_type": "code",
    "client_id": "6f1c0e44-3d38-4b8e-9a43-1b2a0d5a7c10",
    "redirect_uri": "https://scars.example/callback",
    "scope": "launch/patient patient/Observation.rs",
    "state": "af0ifjsldkj",
    "aud": "https://aftercare.example/fhir/R4",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
    "decision": "ask"
}))]
pub struct Authorize {
    #[schema(max_length = 20)]
    pub response_type: String,
    #[schema(max_length = 64)]
    pub client_id: String,
    #[schema(max_length = 500)]
    pub redirect_uri: String,
    #[schema(max_length = 1000)]
    pub scope: String,
    #[schema(max_length = 500)]
    pub state: Option<String>,
    #[schema(max_length = 500)]
    pub aud: String,
    #[schema(max_length = 43)]
    pub code_challenge: String,
    #[schema(max_length = 10)]
    pub code_challenge_method: String,
    #[schema(max_length = 64)]
    pub launch: Option<String>,
    /// `ask` (redirect at once if you approved these scopes before), `approve` or `deny`.
    #[schema(pattern = "^(ask|approve|deny)$")]
    pub decision: String,
    /// Staff, for patient scopes without an EHR launch: the patient the app opens.
    pub patient: Option<Uuid>,
}

/// The consent page's next step: go to `redirect`, or ask the user about `consent`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Authorized {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    /// The app's name.
    pub app: String,
    /// The scopes it asks for, in their v2 form.
    pub scopes: Vec<String>,
    /// Staff must choose the patient the app opens.
    pub needs_patient: bool,
}

/// Decide an app's authorization request as the signed-in user (staff or patient). A user who
/// approved the app before for these scopes is not asked again; a patient authorizes for their
/// own record only. 422 for an unknown app or redirect URI, or staff approving patient scopes
/// without choosing a patient; 404 for another clinic's app.
#[utoipa::path(
    tag = "smart",
    request_body = Authorize,
    security(("bearer" = [])),
    responses((status = 200, description = "Where to go, or what to ask", body = Authorized))
)]
#[post("/v1/smart/authorize")]
pub async fn decide(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(body): Json<Authorize>,
    req: HttpRequest,
) -> Result<web::Json<Authorized>, ApiError> {
    let decision = match body.decision.as_str() {
        "ask" => Decision::Ask,
        "approve" => Decision::Approve,
        "deny" => Decision::Deny,
        _ => return Err(ApiError::invalid("decision", "ask, approve or deny")),
    };
    let request = Request {
        response_type: body.response_type,
        client_id: body.client_id,
        redirect_uri: body.redirect_uri,
        scope: body.scope,
        state: body.state,
        aud: body.aud,
        code_challenge: body.code_challenge,
        code_challenge_method: body.code_challenge_method,
        launch: body.launch,
    };
    let user = service::User {
        id: caller.id,
        role: caller.role,
        tenant: caller.tenant,
    };
    let base = base_url(&req);
    let patient = body.patient;
    let outcome = db::run(&pool, move |conn| {
        service::decide(conn, &request, &base, user, decision, patient, Utc::now())
            .map_err(ApiError::from)
    })
    .await?;
    Ok(web::Json(match outcome {
        Outcome::Redirect(url) => Authorized {
            redirect: Some(url),
            consent: None,
        },
        Outcome::Consent {
            app,
            scopes,
            needs_patient,
        } => Authorized {
            redirect: None,
            consent: Some(Consent {
                app,
                scopes,
                needs_patient,
            }),
        },
    }))
}

/// The SMART configuration at the server's root (as at the FHIR base's).
#[utoipa::path(
    tag = "smart",
    responses((status = 200, description = "The SMART configuration (App Launch STU 2 and Backend Services)", body = super::fhir::FhirResource))
)]
#[get("/.well-known/smart-configuration")]
pub async fn smart_configuration(req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(crate::fhir::smart::configuration(&base_url(&req)))
}
