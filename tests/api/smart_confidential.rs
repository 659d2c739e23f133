//! SMART App Launch, a confidential-asymmetric app: it authenticates at the token endpoint with an
//! assertion signed by a key of its registered JWKS (private_key_jwt) besides its PKCE verifier;
//! without the assertion, with one for another audience, or with one used before (its `jti`), it
//! is refused (401 invalid_client).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::helpers::*;
use crate::smart_flow::{REDIRECT, code_for, pkce, request, token_request};

#[tokio::test]
async fn a_confidential_app_signs_its_token_request_with_its_key() {
    use p384::elliptic_curve::rand_core::OsRng;
    use p384::elliptic_curve::sec1::ToEncodedPoint;
    use p384::pkcs8::EncodePrivateKey;
    let app = spawn_app().await;
    let s = app.scenario("Confidential").await;
    let secret = p384::SecretKey::random(&mut OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let b64 = |b: Option<&p384::FieldBytes>| URL_SAFE_NO_PAD.encode(b.unwrap());
    let jwk =
        json!({"kty": "EC", "crv": "P-384", "kid": "k1", "x": b64(point.x()), "y": b64(point.y())});
    let signing = jsonwebtoken::EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
    let body = json!({"name": "Research export", "redirect_uris": [REDIRECT], "client_type": "confidential-asymmetric",
                      "jwks": {"keys": [jwk]}, "scopes": "user/*.rs"});
    let r = app.post("/v1/smart-apps", &s.clinic.admin, body).await;
    let client = id_of(r.ok(201));
    let token_url = r.body["token_url"].as_str().unwrap().to_string();
    let assertion = |aud: &str| {
        let claims = json!({"iss": client, "sub": client, "aud": aud,
                            "exp": chrono::Utc::now().timestamp() + 240, "jti": uuid::Uuid::new_v4().to_string()});
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &signing).unwrap()
    };
    let form = |code: &str, verifier: &str, assertion: Option<String>| {
        let mut f = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.to_string()),
            ("redirect_uri", REDIRECT.to_string()),
            ("code_verifier", verifier.to_string()),
        ];
        if let Some(a) = assertion {
            f.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ));
            f.push(("client_assertion", a));
        }
        f
    };
    let post = |f: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token_request(app, &pairs).await
        }
    };
    // Without its assertion (as a public app would), or with one for another audience: refused.
    let (verifier, challenge) = pkce();
    let params = request(&app, &client, "user/*.rs", &challenge);
    let code = code_for(&app, &s.clinician, &params, None).await;
    let r = post(form(&code, &verifier, None)).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (verifier, challenge) = pkce();
    let params = request(&app, &client, "user/*.rs", &challenge);
    let code = code_for(&app, &s.clinician, &params, None).await;
    let r = post(form(
        &code,
        &verifier,
        Some(assertion("https://elsewhere.example/token")),
    ))
    .await;
    assert_eq!(r.status, 401);
    // Signed for the token endpoint: a token.
    let (verifier, challenge) = pkce();
    let params = request(&app, &client, "user/*.rs", &challenge);
    let code = code_for(&app, &s.clinician, &params, None).await;
    let signed = assertion(&token_url);
    let r = post(form(&code, &verifier, Some(signed.clone()))).await;
    let token = r.ok(200)["access_token"].as_str().unwrap().to_string();
    app.get("/fhir/R4/Patient", &token).await.ok(200);
    // The same assertion again, with a fresh code: a replay (its jti was used), refused.
    let (verifier, challenge) = pkce();
    let params = request(&app, &client, "user/*.rs", &challenge);
    let code = code_for(&app, &s.clinician, &params, None).await;
    let r = post(form(&code, &verifier, Some(signed))).await;
    assert_eq!(
        (r.status, r.body["error_description"].as_str()),
        (401, Some("this assertion's jti was used before"))
    );
    // A new assertion (a new jti) with another fresh code: a token.
    let (verifier, challenge) = pkce();
    let params = request(&app, &client, "user/*.rs", &challenge);
    let code = code_for(&app, &s.clinician, &params, None).await;
    post(form(&code, &verifier, Some(assertion(&token_url))))
        .await
        .ok(200);
}
