//! SMART Backend Services: a registered system client signs a JWT assertion with its private key
//! (RS384 or ES384) and trades it at the token endpoint for a short-lived access token that reads
//! the clinic's FHIR data (`system/*.read`), and nothing under `/v1`. Failures are OAuth 2.0 errors
//! (RFC 6749): 400, or 401 `invalid_client` when the client's authentication fails.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fhir::base_url;
use super::oauth::{OAuthError, TokenResponse, refuse};
use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::fhir::smart::{self, ASSERTION_TYPE, SCOPE, TOKEN_TTL};
use crate::services::{self, fhir_clients};
use crate::web::auth::{Keys, SystemClaims};
use crate::web::limits::Limits;

/// A token request (`application/x-www-form-urlencoded`): `client_credentials` (SMART Backend
/// Services) or `authorization_code` (SMART App Launch).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "grant_type": "client_credentials",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": "eyJhbGciOiJFUzM4NCIsImtpZCI6IndhcmVob3VzZS0xIn0...",
    "scope": "system/*.read"
}))]
pub struct TokenRequest {
    /// `client_credentials` or `authorization_code`
    #[schema(pattern = "^(client_credentials|authorization_code)$")]
    pub grant_type: String,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (a system client, or a
    /// confidential-asymmetric app)
    #[schema(pattern = "^urn:ietf:params:oauth:client-assertion-type:jwt-bearer$")]
    pub client_assertion_type: Option<String>,
    /// A JWT signed with the client's key (RS384 or ES384) and naming it by `kid` in its header:
    /// `iss` and `sub` the client's id, `aud` the token endpoint's URL (`token_endpoint` of the
    /// smart-configuration, made from the service's public URL), `exp` at most 5 minutes ahead, a
    /// `jti` never used before.
    #[schema(max_length = 8000)]
    pub client_assertion: Option<String>,
    /// `client_credentials`: `system/*.read`
    #[schema(max_length = 1000)]
    pub scope: Option<String>,
    /// `authorization_code`: the code the app's redirect URI received (single use, 60 seconds).
    #[schema(max_length = 100)]
    pub code: Option<String>,
    /// `authorization_code`: the authorization request's `redirect_uri`.
    #[schema(max_length = 500)]
    pub redirect_uri: Option<String>,
    /// `authorization_code`: a public app's id.
    #[schema(max_length = 64)]
    pub client_id: Option<String>,
    /// `authorization_code`: the PKCE verifier whose S256 hash was the `code_challenge`.
    #[schema(max_length = 128)]
    pub code_verifier: Option<String>,
}

fn invalid_client(description: &str) -> HttpResponse {
    refuse(401, "invalid_client", description)
}

/// How a FHIR client finds the token endpoint and what it accepts.
#[utoipa::path(
    tag = "fhir",
    responses((status = 200, description = "The SMART configuration", body = super::fhir::FhirResource))
)]
#[get("/fhir/R4/.well-known/smart-configuration")]
pub async fn smart_configuration(req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(smart::configuration(&base_url(&req)))
}

/// Trades a registered system client's signed assertion for an access token (5 minutes,
/// `system/*.read`) that works on the FHIR API only; or (`authorization_code`, SMART App Launch)
/// an app's code and PKCE verifier for an access token of the scopes the user granted (an hour,
/// with `patient` when a patient is in context): a reused code is refused and revokes the tokens
/// issued from it; a wrong verifier, redirect URI or client, or an expired code: 400
/// `invalid_grant` (401 `invalid_client` when a confidential app's assertion fails). A reused `jti`, a missing or unknown `kid`, a
/// wrong key or audience, an expired or too long-lived assertion, an unknown client: 401
/// `invalid_client`. Limited per client address, and per client from one address.
#[utoipa::path(
    tag = "fhir",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token", body = TokenResponse),
        (status = 400, description = "A malformed request, another grant type or scope", body = OAuthError),
        (status = 401, description = "The client's authentication failed", body = OAuthError),
        (status = 429, description = "Too many token requests from this address, or for this client from it", body = OAuthError, headers(("Retry-After" = String))),
    )
)]
#[post("/fhir/R4/auth/token")]
pub async fn token(
    pool: web::Data<Pool>,
    keys: web::Data<Keys>,
    limits: web::Data<Limits>,
    body: web::Bytes,
    req: HttpRequest,
) -> HttpResponse {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") == "authorization_code" {
        return super::smart_token::exchange(pool, keys, limits, &form, &req).await;
    }
    if field("grant_type") != "client_credentials" {
        return refuse(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials or authorization_code",
        );
    }
    if field("client_assertion_type") != ASSERTION_TYPE || field("client_assertion").is_empty() {
        return refuse(
            400,
            "invalid_request",
            "send a client_assertion of the jwt-bearer type",
        );
    }
    if !smart::scope_granted(field("scope")) {
        return refuse(400, "invalid_scope", "the scope granted is system/*.read");
    }
    // Per client address, and per client from that address, as sign-in is: a guesser spends its
    // own budget, never the real client's. The client is the assertion's unverified `iss`.
    let addr = crate::web::client_addr::of(&req);
    let claimed =
        jsonwebtoken::dangerous::insecure_decode_claims::<Value>(field("client_assertion"))
            .ok()
            .and_then(|c| {
                c["iss"]
                    .as_str()
                    .map(|s| s.chars().take(64).collect::<String>())
            })
            .unwrap_or_default();
    if let Err(ApiError::TooManyRequests(wait)) = limits.attempt("fhir-token", addr, &claimed) {
        let mut answer = refuse(
            429,
            "temporarily_unavailable",
            "too many token requests; retry later",
        );
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
        return answer;
    }
    let token_url = format!("{}/auth/token", base_url(&req));
    let assertion = field("client_assertion").to_string();
    let answer = db::run(&pool, move |conn| {
        fhir_clients::authenticate(conn, &assertion, &token_url)
    })
    .await;
    match answer {
        Ok((client, clinic)) => {
            match keys.sign(&SystemClaims::new(
                client,
                clinic,
                SCOPE,
                Utc::now(),
                TOKEN_TTL,
            )) {
                Ok(token) => HttpResponse::Ok()
                    .insert_header(("Cache-Control", "no-store"))
                    .json(TokenResponse {
                        access_token: token,
                        token_type: "bearer".into(),
                        expires_in: TOKEN_TTL,
                        scope: SCOPE.into(),
                        patient: None,
                    }),
                Err(_) => refuse(500, "server_error", "no token could be made; retry"),
            }
        }
        Err(services::Error::Unauthorized(description)) => invalid_client(description),
        Err(_) => refuse(
            503,
            "server_error",
            "the database is not answering; retry shortly",
        ),
    }
}
