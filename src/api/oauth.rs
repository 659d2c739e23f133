//! OAuth 2.0's answers from the token endpoint (RFC 6749, section 5), whichever grant asked:
//! the system clients' `client_credentials` (`fhir_auth`) and the apps' `authorization_code`
//! (`smart_token`).

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An access token for the FHIR API.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJ0eXAiOiJKV1Qi...", "token_type": "bearer", "expires_in": 300, "scope": "system/*.read"}))]
pub struct TokenResponse {
    pub access_token: String,
    /// `bearer` (`Bearer` for an app's token)
    pub token_type: String,
    /// Seconds.
    pub expires_in: i64,
    pub scope: String,
    /// An app's token: the patient in context, if any (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<Uuid>,
}

/// An OAuth 2.0 error (RFC 6749, section 5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "this assertion's jti was used before"}))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope` or `server_error`.
    pub error: String,
    pub error_description: String,
}

pub(super) fn refuse(status: u16, error: &str, description: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(OAuthError {
            error: error.into(),
            error_description: description.into(),
        })
}
