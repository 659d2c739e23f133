//! One public URL: every absolute URL the service writes (FHIR `fullUrl`s and links, the export's
//! status URL and manifest, enrollment links, the SMART token URL) starts with
//! `AFTERCARE_PUBLIC_URL`, whatever `Host` and forwarded headers a caller forges, and a SMART
//! assertion must name that token URL. SMART clients' keys are checked at registration (RSA of
//! 2,048 bits or more with an odd exponent, points on P-384, a kid each, five at most); an assertion
//! must name its kid; the token endpoint is rate-limited. `serve` refuses to start without the URL.

use std::time::Duration;

use aftercare::config::{ExportSettings, HttpSettings, PublicUrl};
use aftercare::startup::Background;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p384::elliptic_curve::rand_core::OsRng;
use p384::elliptic_curve::sec1::ToEncodedPoint;
use p384::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use crate::helpers::*;

const PUBLIC: &str = "https://aftercare.clinic.example";
const FORGED: &str = "evil.example";

/// Every way a caller could try to name the service's host and scheme.
fn forged(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.header("Host", FORGED)
        .header("X-Forwarded-Host", FORGED)
        .header("X-Forwarded-Proto", "http")
        .header("X-Forwarded-For", "203.0.113.9")
        .header(
            "Forwarded",
            format!("for=203.0.113.9;host={FORGED};proto=http"),
        )
}

async fn app_at_public_url() -> TestApp {
    spawn_app_with(
        HttpSettings {
            public_url: Some(PublicUrl::parse(&format!("{PUBLIC}/")).unwrap()),
            ..HttpSettings::default()
        },
        Background {
            fhir_exports: Some(ExportSettings {
                poll: Duration::from_millis(100),
                file_size: 1,
            }),
            ..Background::default()
        },
    )
    .await
}

async fn forged_get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> Resp {
    let mut req = forged(app.client.get(format!("{}{path}", app.base)));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    into_resp(req.send().await.expect("request")).await
}

#[track_caller]
fn public(url: &str) {
    assert!(
        url.starts_with(&format!("{PUBLIC}/")),
        "{url} is not at the public URL"
    );
    assert!(!url.contains(FORGED), "{url}");
}

#[tokio::test]
async fn forged_host_and_forwarded_headers_change_no_url_the_service_writes() {
    let app = app_at_public_url().await;
    let s = app.scenario("Lumen").await;

    // FHIR search: each entry's fullUrl and the self and next links.
    let bundle = forged_get(&app, "/fhir/R4/Patient?_count=1", Some(&s.clinician), &[]).await;
    let bundle = bundle.ok(200);
    let links = bundle["link"].as_array().unwrap();
    assert!(links.iter().any(|l| l["relation"] == "next"), "{bundle:#}");
    for link in links {
        public(link["url"].as_str().unwrap());
    }
    for entry in bundle["entry"].as_array().unwrap() {
        public(entry["fullUrl"].as_str().unwrap());
    }
    let config = forged_get(&app, "/fhir/R4/.well-known/smart-configuration", None, &[]).await;
    assert_eq!(
        config.ok(200)["token_endpoint"],
        format!("{PUBLIC}/fhir/R4/auth/token")
    );

    // The enrollment link.
    let path = format!("/v1/patients/{}/enrollment-codes", s.patients[0].id);
    let r = forged(app.client.post(format!("{}{path}", app.base)))
        .bearer_auth(&s.clinician)
        .json(&json!(null))
        .send()
        .await
        .unwrap();
    let code = into_resp(r).await;
    let link = code.ok(201)["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{PUBLIC}/app#code=")), "{link}");

    // The export's status URL and its manifest.
    let admin = &s.clinic.admin;
    let kick_off = forged_get(
        &app,
        "/fhir/R4/Patient/$export",
        Some(admin),
        &[("Prefer", "respond-async")],
    )
    .await;
    assert_eq!(kick_off.status, 202, "{}", kick_off.body);
    let status_url = kick_off.header("content-location").unwrap().to_string();
    public(&status_url);
    let status_path = status_url.replace(PUBLIC, "");
    let mut manifest = Value::Null;
    for _ in 0..200 {
        let r = forged_get(&app, &status_path, Some(admin), &[]).await;
        if r.status == 200 {
            manifest = r.body;
            break;
        }
        assert_eq!(r.status, 202, "{}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    public(manifest["request"].as_str().expect("a manifest"));
    let output = manifest["output"].as_array().unwrap();
    assert!(!output.is_empty(), "{manifest:#}");
    for file in output {
        public(file["url"].as_str().unwrap());
    }

    // The token URL a registered client is told.
    let key = ec_key("k1");
    let r = forged(app.client.post(format!("{}/v1/fhir-clients", app.base)))
        .bearer_auth(admin)
        .json(&json!({"name": "Warehouse", "jwks": key.jwk}))
        .send()
        .await
        .unwrap();
    let client = into_resp(r).await;
    assert_eq!(
        client.ok(201)["token_url"],
        format!("{PUBLIC}/fhir/R4/auth/token")
    );
}

/// A client's key pair: the private key to sign with, the algorithm, and the public key as a JWK.
struct ClientKey {
    signing: EncodingKey,
    algorithm: Algorithm,
    jwk: Value,
}

fn ec_key(kid: &str) -> ClientKey {
    let secret = p384::SecretKey::random(&mut OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let b64 = |b: Option<&p384::FieldBytes>| URL_SAFE_NO_PAD.encode(b.unwrap());
    let der = secret.to_pkcs8_der().unwrap();
    ClientKey {
        signing: EncodingKey::from_ec_der(der.as_bytes()),
        algorithm: Algorithm::ES384,
        jwk: json!({"kty": "EC", "crv": "P-384", "kid": kid, "x": b64(point.x()), "y": b64(point.y())}),
    }
}

fn assertion(key: &ClientKey, kid: Option<&str>, client: &str, aud: &str, jti: &str) -> String {
    let now = Utc::now().timestamp();
    let claims = json!({"iss": client, "sub": client, "aud": aud, "exp": now + 240, "jti": jti});
    let mut header = Header::new(key.algorithm);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, &claims, &key.signing).unwrap()
}

async fn token_request(app: &TestApp, assertion: &str, forge: bool) -> Resp {
    let form = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", "system/*.read"),
    ];
    let mut req = app
        .client
        .post(format!("{}/fhir/R4/auth/token", app.base))
        .form(&form);
    if forge {
        req = forged(req);
    }
    into_resp(req.send().await.unwrap()).await
}

#[track_caller]
fn refused(r: &Resp) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_client");
}

#[tokio::test]
async fn an_assertion_for_another_audience_or_without_a_kid_is_refused() {
    let app = app_at_public_url().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let key = ec_key("k1");
    let r = app
        .post(
            "/v1/fhir-clients",
            &clinic.admin,
            json!({"name": "Warehouse", "jwks": {"keys": [key.jwk]}}),
        )
        .await;
    let client = id_of(r.ok(201));
    let token_url = format!("{PUBLIC}/fhir/R4/auth/token");

    // The attack: the audience the forged headers would have made the service expect.
    let theirs = format!("https://{FORGED}/fhir/R4/auth/token");
    refused(
        &token_request(
            &app,
            &assertion(&key, Some("k1"), &client, &theirs, "a"),
            true,
        )
        .await,
    );
    // Nor the address the service happens to listen on.
    let listening = format!("{}/fhir/R4/auth/token", app.base);
    refused(
        &token_request(
            &app,
            &assertion(&key, Some("k1"), &client, &listening, "b"),
            false,
        )
        .await,
    );
    // An assertion that names no key, or a key the client doesn't have.
    refused(
        &token_request(
            &app,
            &assertion(&key, None, &client, &token_url, "c"),
            false,
        )
        .await,
    );
    refused(
        &token_request(
            &app,
            &assertion(&key, Some("k2"), &client, &token_url, "d"),
            false,
        )
        .await,
    );

    // The public token URL works, forged headers or not.
    let ok = token_request(
        &app,
        &assertion(&key, Some("k1"), &client, &token_url, "e"),
        true,
    )
    .await;
    assert_eq!(ok.ok(200)["token_type"], "bearer");
}

#[tokio::test]
async fn weak_or_malformed_keys_are_refused_at_registration() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);

    let small = rsa::RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
    // A 2,048-bit modulus (the exponent is refused before the modulus matters).
    let mut n = vec![0xc5u8; 256];
    n[255] = 0x0f;
    let ec = ec_key("k1").jwk;
    let mut off_curve = ec.clone();
    let mut y = URL_SAFE_NO_PAD
        .decode(off_curve["y"].as_str().unwrap())
        .unwrap();
    y[47] ^= 1;
    off_curve["y"] = json!(b64(&y));
    let mut p256 = ec.clone();
    p256["crv"] = json!("P-256");
    let mut short_x = ec.clone();
    short_x["x"] = json!(b64(&[1u8; 32]));
    let mut kidless = ec.clone();
    kidless.as_object_mut().unwrap().remove("kid");
    let six: Vec<Value> = (0..6).map(|i| ec_key(&format!("k{i}")).jwk).collect();

    let bad = [
        (
            "an RSA key of 1,024 bits",
            json!({"kty": "RSA", "kid": "r1", "n": b64(&small.n().to_bytes_be()), "e": b64(&small.e().to_bytes_be())}),
        ),
        (
            "an even exponent",
            json!({"kty": "RSA", "kid": "r1", "n": b64(&n), "e": b64(&[1, 0, 0])}),
        ),
        (
            "an exponent of 1",
            json!({"kty": "RSA", "kid": "r1", "n": b64(&n), "e": b64(&[1])}),
        ),
        ("a point off P-384", off_curve),
        ("another curve", p256),
        ("a coordinate of the wrong length", short_x),
        ("a key without a kid", kidless),
        (
            "two keys of one kid",
            json!({"keys": [ec.clone(), ec_key("k1").jwk]}),
        ),
        ("six keys", json!({"keys": six})),
    ];
    for (what, jwks) in bad {
        let r = app
            .post(
                "/v1/fhir-clients",
                &clinic.admin,
                json!({"name": "Warehouse", "jwks": jwks}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), ["jwks"], "{what}: {}", r.body);
    }
    let five: Vec<Value> = (0..5).map(|i| ec_key(&format!("k{i}")).jwk).collect();
    let r = app
        .post(
            "/v1/fhir-clients",
            &clinic.admin,
            json!({"name": "Warehouse", "jwks": {"keys": five}}),
        )
        .await;
    r.ok(201);
}

#[tokio::test]
async fn the_token_endpoint_is_limited_per_client_and_address() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let key = ec_key("k1");
    let r = app
        .post(
            "/v1/fhir-clients",
            &clinic.admin,
            json!({"name": "Warehouse", "jwks": key.jwk}),
        )
        .await;
    let client = id_of(r.ok(201));
    let stranger = ec_key("k1");
    let token_url = format!("{}/fhir/R4/auth/token", app.base);
    let mut limited = None;
    for n in 0..30 {
        let r = token_request(
            &app,
            &assertion(&stranger, Some("k1"), &client, &token_url, &format!("g{n}")),
            false,
        )
        .await;
        if r.status == 429 {
            limited = Some((n, r));
            break;
        }
        refused(&r);
    }
    let (n, r) = limited.expect("the guesses are limited");
    assert!(n <= 10, "{n} guesses before the limit");
    assert_eq!(r.body["error"], "temporarily_unavailable");
    assert!(r.header("retry-after").is_some());
    // The limit is on this client from this address, not on every client.
    let other = uuid::Uuid::new_v4().to_string();
    refused(
        &token_request(
            &app,
            &assertion(&key, Some("k1"), &other, &token_url, "x"),
            false,
        )
        .await,
    );
}

#[test]
fn serve_refuses_to_start_without_the_public_url() {
    let run = |public_url: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"));
        cmd.arg("serve")
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .env(
                "AFTERCARE_JWT_SECRET",
                "3f9a1c0e7b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
            )
            .env("AFTERCARE_ADDR", "127.0.0.1:0")
            .env("AFTERCARE_LOG_FORMAT", "text")
            .env_remove("AFTERCARE_PUBLIC_URL");
        if let Some(url) = public_url {
            cmd.env("AFTERCARE_PUBLIC_URL", url);
        }
        let out = cmd.output().expect("run aftercare serve");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stderr) = run(None);
    assert!(!ok);
    assert!(
        stderr.contains("AFTERCARE_PUBLIC_URL is not set"),
        "{stderr}"
    );
    let (ok, stderr) = run(Some("ftp://aftercare.clinic.example"));
    assert!(!ok);
    assert!(stderr.contains("AFTERCARE_PUBLIC_URL must be"), "{stderr}");
}
