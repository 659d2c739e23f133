//! SMART App Launch's flow as the tests drive it: the authorization request's parameters, the
//! "browser" at the authorization endpoint (an HTTP client that stops at each redirect), the
//! consent page's decision made with the user's token, and the token request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A browser that stops at each redirect.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A PKCE verifier and its S256 challenge.
pub(crate) fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub(crate) fn fhir_base(app: &TestApp) -> String {
    format!("{}/fhir/R4", app.base)
}

/// The authorization request's parameters, as a map the tests change one entry of.
pub(crate) fn request(
    app: &TestApp,
    client: &str,
    scope: &str,
    challenge: &str,
) -> Vec<(String, String)> {
    [
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "s-1"),
        ("aud", &fhir_base(app)),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub(crate) fn set(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    params.retain(|(k, _)| k != name);
    params.push((name.into(), value.into()));
}

/// The browser at the authorization endpoint: its status and Location.
pub(crate) async fn authorize(app: &TestApp, url: &str) -> (u16, String) {
    let res = browser().get(url).send().await.unwrap();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let _ = app;
    (res.status().as_u16(), location)
}

pub(crate) fn authorize_url(app: &TestApp, params: &[(String, String)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{}/fhir/R4/auth/authorize?{query}", app.base)
}

pub(crate) fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

pub(crate) fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The consent page: the request the authorization endpoint sent it, passed on with the user's
/// token and decision.
pub(crate) async fn consent(
    app: &TestApp,
    token: &str,
    page: &str,
    decision: &str,
    patient: Option<&str>,
) -> Value {
    let mut body: serde_json::Map<String, Value> = query_of(page)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    body.insert("decision".into(), json!(decision));
    if let Some(p) = patient {
        body.insert("patient".into(), json!(p));
    }
    app.post("/v1/smart/authorize", token, Value::Object(body))
        .await
        .ok(200)
        .clone()
}

pub(crate) async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> Resp {
    let res = app
        .client
        .post(format!("{}/fhir/R4/auth/token", app.base))
        .form(form)
        .send()
        .await
        .unwrap();
    into_resp(res).await
}

/// The whole flow without fhirclient: the code the redirect carries, for this user.
pub(crate) async fn code_for(
    app: &TestApp,
    token: &str,
    params: &[(String, String)],
    patient: Option<&str>,
) -> String {
    let (status, page) = authorize(app, &authorize_url(app, params)).await;
    assert_eq!(status, 303, "{page}");
    assert!(page.starts_with("/dashboard/#/authorize?"), "{page}");
    let decided = consent(app, token, &page, "approve", patient).await;
    let redirect = decided["redirect"]
        .as_str()
        .expect("a redirect")
        .to_string();
    param(&redirect, "code").unwrap_or_else(|| panic!("no code in {redirect}"))
}
