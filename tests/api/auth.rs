use aftercare::web::auth::{AUDIENCE, Claims, ISSUER, Role, key_id};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::*;

pub(crate) fn claims(sub: uuid::Uuid, clinic: uuid::Uuid) -> Claims {
    let now = Utc::now().timestamp();
    Claims {
        sub,
        role: Role::Admin,
        clinic,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        nbf: now,
        exp: now + 600,
        sid: None,
    }
}

pub(crate) fn sign(claims: &Claims, secret: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key_id(secret));
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> Resp {
    app.get("/v1/me", token).await
}

#[tokio::test]
async fn staff_sign_in_and_see_who_they_are() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let me = app.get("/v1/me", &clinic.admin).await;
    let me = me.ok(200);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["clinic_id"], clinic.id.to_string());
    assert_eq!(me["clinic_timezone"], "Europe/Berlin");
    assert!(me["user_id"].is_string());
    assert!(me.get("patient_id").is_none());
}

#[tokio::test]
async fn an_unknown_email_is_answered_like_a_wrong_password() {
    let app = spawn_app().await;
    app.clinic("Lumen", "Europe/Berlin").await;
    let unknown = app
        .post_anon(
            "/v1/auth/login",
            json!({"email": "nobody@x.example", "password": PASSWORD}),
        )
        .await;
    let wrong = app
        .post_anon(
            "/v1/auth/login",
            json!({"email": "admin@x.example", "password": "wrong-password!"}),
        )
        .await;
    assert_eq!(unknown.problem(401), wrong.problem(401));
    assert_eq!(unknown.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let r = app
        .request(reqwest::Method::GET, "/v1/me", None, None)
        .await;
    r.problem(401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));

    let sub = uuid::Uuid::new_v4();
    let good = claims(sub, clinic.id);
    let mut attacks = vec![
        (
            "wrong key",
            sign(&good, "some-other-secret-some-other-secret-x"),
        ),
        (
            "expired",
            sign(
                &Claims {
                    exp: Utc::now().timestamp() - 3600,
                    ..good.clone()
                },
                SECRET,
            ),
        ),
        (
            "not yet valid",
            sign(
                &Claims {
                    nbf: Utc::now().timestamp() + 3600,
                    ..good.clone()
                },
                SECRET,
            ),
        ),
        (
            "wrong issuer",
            sign(
                &Claims {
                    iss: "someone-else".into(),
                    ..good.clone()
                },
                SECRET,
            ),
        ),
        (
            "wrong audience",
            sign(
                &Claims {
                    aud: "another-api".into(),
                    ..good.clone()
                },
                SECRET,
            ),
        ),
        ("garbage", "not.a.token".to_string()),
    ];
    // alg: none, unsigned.
    let header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "typ": "JWT", "kid": key_id(SECRET)}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_string(&good).unwrap());
    attacks.push(("alg none", format!("{header}.{payload}.")));
    // A real token whose payload was changed to another clinic.
    let real = sign(&good, SECRET);
    let parts: Vec<&str> = real.split('.').collect();
    let forged = Claims {
        clinic: uuid::Uuid::new_v4(),
        ..good.clone()
    };
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_string(&forged).unwrap());
    attacks.push((
        "tampered payload",
        format!("{}.{forged_payload}.{}", parts[0], parts[2]),
    ));
    // HS384 with the right secret: only HS256 is accepted.
    let mut h384 = Header::new(Algorithm::HS384);
    h384.kid = Some(key_id(SECRET));
    attacks.push((
        "other algorithm",
        jsonwebtoken::encode(&h384, &good, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap(),
    ));

    for (name, token) in attacks {
        let r = me_status(&app, &token).await;
        assert_eq!(r.status, 401, "{name}: {:#}", r.body);
        r.problem(401);
    }
    // The untampered token of a real admin works.
    assert_eq!(me_status(&app, &clinic.admin).await.status, 200);
}

#[tokio::test]
async fn tokens_signed_with_the_previous_secret_still_work_during_rotation() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let me = app.get("/v1/me", &clinic.admin).await;
    let admin_id: uuid::Uuid = me.body["user_id"].as_str().unwrap().parse().unwrap();
    let old = sign(&claims(admin_id, clinic.id), PREVIOUS_SECRET);
    let r = app.get("/v1/me", &old).await;
    assert_eq!(r.ok(200)["user_id"], admin_id.to_string());
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_chain() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let first = s.patients[0].refresh.clone();

    let second = app
        .post_anon("/v1/auth/refresh", json!({"refresh_token": first}))
        .await;
    let second = second.ok(200)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second, first);

    // The used token is refused, and the thief's use kills the legitimate successor too.
    app.post_anon("/v1/auth/refresh", json!({"refresh_token": first}))
        .await
        .problem(401);
    app.post_anon("/v1/auth/refresh", json!({"refresh_token": second}))
        .await
        .problem(401);
    // Another session of the same patient is untouched... none exists; an unknown token is refused.
    app.post_anon("/v1/auth/refresh", json!({"refresh_token": "nonsense"}))
        .await
        .problem(401);
}

#[tokio::test]
async fn refreshed_tokens_carry_the_same_identity() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let r = app
        .post_anon(
            "/v1/auth/refresh",
            json!({"refresh_token": s.patients[0].refresh}),
        )
        .await;
    let access = r.ok(200)["access_token"].as_str().unwrap().to_string();
    let me = app.get("/v1/me", &access).await;
    assert_eq!(me.ok(200)["patient_id"], s.patients[0].id);
    assert_eq!(me.body["role"], "patient");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    // Another patient's token is not theirs to revoke: still 204, but nothing happens.
    let r = app
        .post(
            "/v1/auth/logout",
            &s.patients[1].token,
            json!({"refresh_token": p.refresh}),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .post(
            "/v1/auth/logout",
            &p.token,
            json!({"refresh_token": p.refresh}),
        )
        .await;
    assert_eq!(r.status, 204);
    app.post_anon("/v1/auth/refresh", json!({"refresh_token": p.refresh}))
        .await
        .problem(401);
    // The other patient's session is untouched.
    app.post_anon(
        "/v1/auth/refresh",
        json!({"refresh_token": s.patients[1].refresh}),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn enrollment_codes_work_once_and_expire() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let clinician = app.clinician(&clinic).await;
    let patient = app.patient(&clinician, "MRN-1").await;

    let code = app
        .post(
            &format!("/v1/patients/{patient}/enrollment-codes"),
            &clinician,
            json!(null),
        )
        .await;
    let location = code.header("location").unwrap().to_string();
    let code = code.ok(201).clone();
    let expires: chrono::DateTime<Utc> = code["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (expires - Utc::now() - Duration::hours(72))
            .num_seconds()
            .abs()
            < 60
    );

    // Typed sloppily: lower case, spaces instead of dashes.
    let typed = code["code"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .replace('-', " ");
    let tokens = app
        .post_anon("/v1/auth/enroll", json!({"code": typed}))
        .await;
    assert_eq!(tokens.ok(200)["role"], "patient");
    assert_eq!(tokens.body["patient_id"], patient);
    app.post_anon("/v1/auth/enroll", json!({"code": code["code"]}))
        .await
        .problem(401);
    assert!(app.get(&location, &clinician).await.ok(200)["used_at"].is_string());

    app.post_anon("/v1/auth/enroll", json!({"code": "AAAA-BBBB-CCCC"}))
        .await
        .problem(401);

    let expired = app
        .post(
            &format!("/v1/patients/{patient}/enrollment-codes"),
            &clinician,
            json!(null),
        )
        .await;
    let expired = expired.ok(201)["code"].as_str().unwrap().to_string();
    use aftercare::db::schema::enrollment_codes::dsl::*;
    diesel::update(enrollment_codes.filter(used_at.is_null()))
        .set(expires_at.eq(Utc::now() - Duration::minutes(1)))
        .execute(&mut app.db())
        .unwrap();
    app.post_anon("/v1/auth/enroll", json!({"code": expired}))
        .await
        .problem(401);
}

#[tokio::test]
async fn a_new_code_replaces_the_unused_one() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let clinician = app.clinician(&clinic).await;
    let patient = app.patient(&clinician, "MRN-1").await;
    let path = format!("/v1/patients/{patient}/enrollment-codes");
    let first = app
        .post(&path, &clinician, json!(null))
        .await
        .ok(201)
        .clone();
    let second = app.post(&path, &clinician, json!(null)).await.ok(201)["code"].clone();
    app.post_anon("/v1/auth/enroll", json!({"code": first["code"]}))
        .await
        .problem(401);
    app.post_anon("/v1/auth/enroll", json!({"code": second}))
        .await
        .ok(200);
    // The replaced code is still there to look up (a created resource stays found), expired.
    let replaced = app
        .get(
            &format!("{path}/{}", first["id"].as_str().unwrap()),
            &clinician,
        )
        .await;
    let replaced = replaced.ok(200);
    assert!(replaced["expires_at"].as_str() < first["expires_at"].as_str());
    assert!(replaced["used_at"].is_null());
}

#[tokio::test]
async fn only_staff_issue_codes_and_only_for_their_clinic() {
    let app = spawn_app().await;
    let a = app.scenario("A").await;
    let b = app.scenario("B").await;
    let path = format!("/v1/patients/{}/enrollment-codes", a.patients[0].id);
    app.post(&path, &a.patients[0].token, json!(null))
        .await
        .problem(403);
    app.post(&path, &b.clinician, json!(null))
        .await
        .problem(404);
}
