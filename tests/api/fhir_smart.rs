//! SMART Backend Services: an admin registers a client's public key; the client signs an assertion
//! (ES384 or RS384, with a key made here) and gets a 5-minute token that reads FHIR and exports, and
//! nothing under /v1. A wrong key, an expired or too long-lived assertion, a replayed `jti` and an
//! algorithm the key is not registered for are refused with 401 `invalid_client`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p384::elliptic_curve::rand_core::OsRng;
use p384::elliptic_curve::sec1::ToEncodedPoint;
use p384::pkcs8::EncodePrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::smart_flow::token_request as post_token_form;

/// A client's key pair: the private key to sign with, the algorithm, and the public key as a JWK.
struct ClientKey {
    signing: EncodingKey,
    algorithm: Algorithm,
    jwk: Value,
}

/// A P-384 key, for ES384.
fn client_key() -> ClientKey {
    let secret = p384::SecretKey::random(&mut OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let b64 = |b: Option<&p384::FieldBytes>| URL_SAFE_NO_PAD.encode(b.unwrap());
    let der = secret.to_pkcs8_der().unwrap();
    ClientKey {
        signing: EncodingKey::from_ec_der(der.as_bytes()),
        algorithm: Algorithm::ES384,
        jwk: json!({"kty": "EC", "crv": "P-384", "kid": "k1", "alg": "ES384",
                    "x": b64(point.x()), "y": b64(point.y())}),
    }
}

/// A 2048-bit RSA key, for RS384.
fn rsa_key() -> ClientKey {
    let secret = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    let der = secret.to_pkcs1_der().unwrap();
    let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    ClientKey {
        signing: EncodingKey::from_rsa_der(der.as_bytes()),
        algorithm: Algorithm::RS384,
        jwk: json!({"kty": "RSA", "kid": "k1", "alg": "RS384",
                    "n": b64(secret.n()), "e": b64(secret.e())}),
    }
}

fn assertion(key: &ClientKey, client: &str, aud: &str, exp_in: i64, jti: &str) -> String {
    signed(key, key.algorithm, client, aud, exp_in, jti)
}

fn signed(
    key: &ClientKey,
    algorithm: Algorithm,
    client: &str,
    aud: &str,
    exp_in: i64,
    jti: &str,
) -> String {
    let now = Utc::now().timestamp();
    let claims = json!({"iss": client, "sub": client, "aud": aud, "exp": now + exp_in, "jti": jti});
    let mut header = Header::new(algorithm);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(&header, &claims, &key.signing).unwrap()
}

async fn token_request(app: &TestApp, assertion: &str) -> Resp {
    let form = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", "system/*.read"),
    ];
    post_token_form(app, &form).await
}

/// An OAuth refusal of the client (RFC 6749 5.2).
#[track_caller]
fn refused(r: Resp) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_client");
}

/// Registers the key as the clinic's client: its id and the token URL.
async fn register(app: &TestApp, admin: &str, key: &ClientKey) -> (String, String) {
    let r = app
        .post(
            "/v1/fhir-clients",
            admin,
            json!({"name": "Warehouse", "jwks": {"keys": [key.jwk]}}),
        )
        .await;
    let body = r.ok(201);
    (id_of(body), body["token_url"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_registered_client_gets_a_token_that_reads_fhir_and_nothing_else() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let key = client_key();
    let (client, token_url) = register(&app, &s.clinic.admin, &key).await;
    let config = app
        .request(
            reqwest::Method::GET,
            "/fhir/R4/.well-known/smart-configuration",
            None,
            None,
        )
        .await;
    assert_eq!(config.ok(200)["token_endpoint"], token_url.as_str());

    let r = token_request(&app, &assertion(&key, &client, &token_url, 240, "first")).await;
    let body = r.ok(200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "system/*.read");
    let token = body["access_token"].as_str().unwrap().to_string();

    let patients = app.get("/fhir/R4/Patient", &token).await;
    assert_eq!(patients.ok(200)["entry"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/v1/patients", &token).await.status, 401);
    let kick = app
        .client
        .get(format!("{}/fhir/R4/Patient/$export", app.base))
        .bearer_auth(&token)
        .header("Prefer", "respond-async")
        .send()
        .await
        .unwrap();
    assert_eq!(kick.status(), 202);

    // The read is in the trail, as the system's.
    let trail = app
        .get(
            &format!("/v1/audit-events?actor_id={client}"),
            &s.clinic.admin,
        )
        .await;
    let items = trail.ok(200)["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    assert!(items.iter().all(|e| e["actor_role"] == "system"));

    // Another clinic can't remove it; its own admin can, and its token stops working.
    let other = app.scenario("Other").await;
    let path = format!("/v1/fhir-clients/{client}");
    assert_eq!(
        app.request(
            reqwest::Method::DELETE,
            &path,
            Some(&other.clinic.admin),
            None
        )
        .await
        .status,
        404
    );
    let listed = app.get("/v1/fhir-clients", &s.clinic.admin).await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.request(reqwest::Method::DELETE, &path, Some(&s.clinic.admin), None)
            .await
            .status,
        204
    );
    let after = app.get("/fhir/R4/Patient", &token).await;
    assert_eq!(after.status, 401);
    assert_eq!(after.body["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn a_wrong_key_an_expired_assertion_and_a_replayed_jti_are_refused() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let key = client_key();
    let (client, token_url) = register(&app, &s.clinic.admin, &key).await;

    let stranger = client_key();
    refused(token_request(&app, &assertion(&stranger, &client, &token_url, 240, "a")).await);
    refused(token_request(&app, &assertion(&key, &client, &token_url, -120, "b")).await);
    refused(token_request(&app, &assertion(&key, &client, &token_url, 3600, "c")).await);
    refused(
        token_request(
            &app,
            &assertion(&key, &client, "https://elsewhere.example/token", 240, "d"),
        )
        .await,
    );
    refused(
        token_request(
            &app,
            &assertion(&key, &Uuid::new_v4().to_string(), &token_url, 240, "e"),
        )
        .await,
    );

    let once = assertion(&key, &client, &token_url, 240, "once");
    token_request(&app, &once).await.ok(200);
    refused(token_request(&app, &once).await);
    // The nearest case that passes: a new jti.
    token_request(&app, &assertion(&key, &client, &token_url, 240, "twice"))
        .await
        .ok(200);

    let r = post_token_form(&app, &[("grant_type", "password"), ("username", "x")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "unsupported_grant_type");

    // A private key is never registered.
    let mut private = key.jwk.clone();
    private["d"] = json!("c2VjcmV0");
    let r = app
        .post(
            "/v1/fhir-clients",
            &s.clinic.admin,
            json!({"name": "Leaky", "jwks": private}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "jwks");
    // Clinicians don't register clients.
    let r = app
        .post(
            "/v1/fhir-clients",
            &s.clinician,
            json!({"name": "W", "jwks": key.jwk}),
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn an_rs384_client_gets_a_token_and_only_with_the_algorithm_it_registered() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let key = rsa_key();
    let (client, token_url) = register(&app, &s.clinic.admin, &key).await;

    // The same key signing RS256 or PS384 is not the registered RS384.
    for other in [Algorithm::RS256, Algorithm::PS384] {
        refused(token_request(&app, &signed(&key, other, &client, &token_url, 240, "a")).await);
    }
    // Another RSA key is refused.
    let stranger = rsa_key();
    refused(token_request(&app, &assertion(&stranger, &client, &token_url, 240, "b")).await);

    let r = token_request(&app, &assertion(&key, &client, &token_url, 240, "c")).await;
    let token = r.ok(200)["access_token"].as_str().unwrap().to_string();
    let patients = app.get("/fhir/R4/Patient", &token).await;
    assert_eq!(patients.ok(200)["entry"].as_array().unwrap().len(), 2);
}
