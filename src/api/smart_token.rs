//! The token endpoint's `authorization_code` grant (SMART App Launch): an app trades its code and
//! PKCE verifier for an access token (`services::smart::exchange`). Failures are OAuth 2.0 errors.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use std::collections::HashMap;

use super::fhir::base_url;
use super::oauth::{TokenResponse, refuse};
use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::services::smart::{self as service, Exchange, Refused};
use crate::web::auth::Keys;
use crate::web::limits::Limits;

pub(super) async fn exchange(
    pool: web::Data<Pool>,
    keys: web::Data<Keys>,
    limits: web::Data<Limits>,
    form: &HashMap<String, String>,
    req: &HttpRequest,
) -> HttpResponse {
    let field = |name: &str| form.get(name).cloned();
    let (Some(code), Some(redirect_uri), Some(code_verifier)) =
        (field("code"), field("redirect_uri"), field("code_verifier"))
    else {
        return refuse(
            400,
            "invalid_request",
            "send code, redirect_uri and code_verifier (PKCE)",
        );
    };
    let assertion = field("client_assertion").filter(|_| {
        field("client_assertion_type").as_deref() == Some(crate::fhir::smart::ASSERTION_TYPE)
    });
    // Per client address, and per code from it: a guesser spends its own budget.
    let addr = crate::web::client_addr::of(req);
    let key: String = code.chars().take(64).collect();
    if let Err(ApiError::TooManyRequests(wait)) = limits.attempt("fhir-token", addr, &key) {
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
    let exchange = Exchange {
        code,
        redirect_uri,
        client_id: field("client_id"),
        code_verifier,
        client_assertion: assertion,
    };
    let token_url = format!("{}/auth/token", base_url(req));
    let answer = db::run(&pool, move |conn| {
        service::exchange(conn, &keys, &exchange, &token_url, Utc::now()).map_err(ApiError::from)
    })
    .await;
    match answer {
        Ok(Ok(granted)) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"))
            .json(TokenResponse {
                access_token: granted.access_token,
                token_type: "Bearer".into(),
                expires_in: service::TOKEN_TTL,
                scope: granted.scope,
                patient: granted.patient,
            }),
        Ok(Err(Refused("invalid_client", why))) => refuse(401, "invalid_client", why),
        Ok(Err(Refused(error, why))) => refuse(400, error, why),
        Err(ApiError::Unavailable(_) | ApiError::TimedOut) => refuse(
            503,
            "server_error",
            "the database is not answering; retry shortly",
        ),
        Err(_) => refuse(500, "server_error", "no token could be made; retry"),
    }
}
