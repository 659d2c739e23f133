//! Accounts that end: deactivation, password change and reset, sessions listed and revoked,
//! un-enrolled phones, and the absolute lifetime of a session. Each action, then proof it took.

use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const NEW_PASSWORD: &str = "maple-orbit-canvas-17";

/// A clinician added by the clinic's admin: (staff id, email).
async fn clinician(app: &TestApp, clinic: &Clinic) -> (String, String) {
    let email = format!("dr-{}@clinic.example", Uuid::new_v4().simple());
    let body =
        json!({"email": email, "password": PASSWORD, "role": "clinician", "name": "Dr. Lee"});
    let r = app.post("/v1/staff", &clinic.admin, body).await;
    (id_of(r.ok(201)), email)
}

fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().unwrap()
}

async fn refresh(app: &TestApp, tokens: &Value) -> Resp {
    app.post_anon(
        "/v1/auth/refresh",
        json!({"refresh_token": tokens["refresh_token"]}),
    )
    .await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Resp {
    app.post_anon(
        "/v1/auth/login",
        json!({"email": email, "password": password}),
    )
    .await
}

async fn actions(app: &TestApp, admin: &str) -> Vec<(String, String)> {
    let r = app.get("/v1/audit-events?limit=200", admin).await;
    r.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_deactivated_account_cant_sign_in_and_its_sessions_end_at_once() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let (id, email) = clinician(&app, &clinic).await;
    let tokens = app.login(&email, PASSWORD).await;
    app.get("/v1/me", access(&tokens)).await.ok(200);
    // A reset token issued before: deactivation ends it, for good.
    let reset = app
        .post(
            &format!("/v1/staff/{id}/password-reset"),
            &clinic.admin,
            json!(null),
        )
        .await;
    let reset = reset.ok(200)["token"].as_str().unwrap().to_string();
    let redeem = json!({"token": reset, "new_password": NEW_PASSWORD});

    let r = app
        .post(
            &format!("/v1/staff/{id}/deactivate"),
            &clinic.admin,
            json!(null),
        )
        .await;
    assert_eq!(r.ok(200)["active"], false);
    // The access token stops at once, not when it expires; the refresh token too.
    app.get("/v1/me", access(&tokens)).await.problem(401);
    refresh(&app, &tokens).await.problem(401);
    // Signing in is answered exactly as a wrong password.
    let deactivated = sign_in(&app, &email, PASSWORD).await;
    let wrong = sign_in(&app, &email, "not-the-password-at-all").await;
    assert_eq!(deactivated.problem(401), wrong.problem(401));
    app.post_anon("/v1/auth/password-reset", redeem.clone())
        .await
        .problem(401);

    let r = app
        .post(
            &format!("/v1/staff/{id}/reactivate"),
            &clinic.admin,
            json!(null),
        )
        .await;
    assert_eq!(r.ok(200)["active"], true);
    app.post_anon("/v1/auth/password-reset", redeem)
        .await
        .problem(401);
    let tokens = app.login(&email, PASSWORD).await;
    app.get("/v1/me", access(&tokens)).await.ok(200);

    let done = actions(&app, &clinic.admin).await;
    for action in ["deactivate", "reactivate"] {
        assert!(done.iter().any(|(a, _)| a == action), "{action}: {done:?}");
    }
}

#[tokio::test]
async fn the_last_active_admin_cant_be_deactivated() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let me = app.get("/v1/me", &clinic.admin).await;
    let admin = me.ok(200)["user_id"].as_str().unwrap().to_string();
    let path = format!("/v1/staff/{admin}/deactivate");
    app.post(&path, &clinic.admin, json!(null))
        .await
        .problem(409);

    let email = format!("second-{}@clinic.example", Uuid::new_v4().simple());
    let body = json!({"email": email, "password": PASSWORD, "role": "admin", "name": "Second"});
    app.post("/v1/staff", &clinic.admin, body).await.ok(201);
    let second = app.login(&email, PASSWORD).await;
    app.post(&path, access(&second), json!(null)).await.ok(200);
    // The first admin is out at once; the second is now the last one.
    app.get("/v1/me", &clinic.admin).await.problem(401);
    let second_id = app.get("/v1/me", access(&second)).await.ok(200)["user_id"].clone();
    let path = format!("/v1/staff/{}/deactivate", second_id.as_str().unwrap());
    app.post(&path, access(&second), json!(null))
        .await
        .problem(409);
}

#[tokio::test]
async fn changing_a_password_ends_the_other_sessions_but_not_this_one() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let (_, email) = clinician(&app, &clinic).await;
    let here = app.login(&email, PASSWORD).await;
    let elsewhere = app.login(&email, PASSWORD).await;

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let r = app
        .post(
            "/v1/me/password",
            access(&here),
            change("wrong-password-here", NEW_PASSWORD),
        )
        .await;
    r.problem(403);
    let r = app
        .post("/v1/me/password", access(&here), change(PASSWORD, "short"))
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), ["new_password"]);
    app.post(
        "/v1/me/password",
        access(&here),
        change(PASSWORD, NEW_PASSWORD),
    )
    .await
    .ok(204);

    // This session continues; the other one is over, access and refresh token alike.
    app.get("/v1/me", access(&here)).await.ok(200);
    refresh(&app, &here).await.ok(200);
    app.get("/v1/me", access(&elsewhere)).await.problem(401);
    refresh(&app, &elsewhere).await.problem(401);
    // The old password really fails; the new one works.
    sign_in(&app, &email, PASSWORD).await.problem(401);
    sign_in(&app, &email, NEW_PASSWORD).await.ok(200);
    // Patients have no password.
    let s = app.scenario("Other").await;
    app.post(
        "/v1/me/password",
        &s.patients[0].token,
        change(PASSWORD, NEW_PASSWORD),
    )
    .await
    .problem(403);
    assert!(
        actions(&app, &clinic.admin)
            .await
            .iter()
            .any(|(a, _)| a == "change_password")
    );
}

#[tokio::test]
async fn a_reset_token_works_once_and_ends_every_session() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let (id, email) = clinician(&app, &clinic).await;
    let session = app.login(&email, PASSWORD).await;

    let r = app
        .post(
            &format!("/v1/staff/{id}/password-reset"),
            &clinic.admin,
            json!(null),
        )
        .await;
    let token = r.ok(200)["token"].as_str().unwrap().to_string();
    // Only its hash is stored.
    let stored: Vec<u8> = {
        use aftercare::db::schema::password_resets;
        use diesel::prelude::*;
        password_resets::table
            .select(password_resets::token_hash)
            .first(&mut app.db())
            .unwrap()
    };
    assert_ne!(stored, token.as_bytes());

    let redeem = |password: &str| json!({"token": token, "new_password": password});
    // A refused password leaves the token usable.
    let r = app
        .post_anon("/v1/auth/password-reset", redeem("short"))
        .await;
    r.problem(422);
    app.post_anon("/v1/auth/password-reset", redeem(NEW_PASSWORD))
        .await
        .ok(204);
    app.post_anon(
        "/v1/auth/password-reset",
        redeem("another-fine-passphrase-42"),
    )
    .await
    .problem(401);

    app.get("/v1/me", access(&session)).await.problem(401);
    refresh(&app, &session).await.problem(401);
    sign_in(&app, &email, PASSWORD).await.problem(401);
    sign_in(&app, &email, NEW_PASSWORD).await.ok(200);
    // The reset is in the trail as the staff member's own act, the issuing as the admin's.
    let done = actions(&app, &clinic.admin).await;
    assert!(
        done.contains(&("reset_password".to_string(), id.clone())),
        "{done:?}"
    );
    assert!(done.iter().any(|(a, _)| a == "issue_password_reset"));

    // A token past its hour no longer works.
    let r = app
        .post(
            &format!("/v1/staff/{id}/password-reset"),
            &clinic.admin,
            json!(null),
        )
        .await;
    let late = r.ok(200)["token"].as_str().unwrap().to_string();
    app.db()
        .batch_execute("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .unwrap();
    app.post_anon(
        "/v1/auth/password-reset",
        json!({"token": late, "new_password": "another-fine-passphrase-42"}),
    )
    .await
    .problem(401);
}

#[tokio::test]
async fn sessions_are_listed_and_revoked() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let (id, email) = clinician(&app, &clinic).await;
    let mine = app.login(&email, PASSWORD).await;
    let lost = app.login(&email, PASSWORD).await;
    let path = format!("/v1/staff/{id}/sessions");

    let r = app.get(&path, access(&mine)).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    for s in &items {
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert!(!keys.iter().any(|k| k.contains("token")), "{s}");
        assert_eq!(s["client"], Value::Null, "reqwest sends no User-Agent");
    }
    let other = items.iter().find(|s| s["current"] == false).unwrap();
    let other = other["id"].as_str().unwrap();

    // An admin ends the lost session: at once, and only that one.
    app.post(
        &format!("{path}/{other}/revoke"),
        &clinic.admin,
        json!(null),
    )
    .await
    .ok(204);
    app.get("/v1/me", access(&lost)).await.problem(401);
    refresh(&app, &lost).await.problem(401);
    app.get("/v1/me", access(&mine)).await.ok(200);
    let r = app.get(&path, &clinic.admin).await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
    let unknown = Uuid::new_v4();
    app.post(
        &format!("{path}/{unknown}/revoke"),
        &clinic.admin,
        json!(null),
    )
    .await
    .problem(404);

    // A clinician sees only their own sessions.
    let (other_id, other_email) = clinician(&app, &clinic).await;
    let colleague = app.login(&other_email, PASSWORD).await;
    app.get(&path, access(&colleague)).await.problem(404);
    app.get(
        &format!("/v1/staff/{other_id}/sessions"),
        access(&colleague),
    )
    .await
    .ok(200);
    assert!(
        actions(&app, &clinic.admin)
            .await
            .iter()
            .any(|(a, _)| a == "revoke_session")
    );
}

#[tokio::test]
async fn an_unenrolled_phone_is_signed_out_at_once() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let (p, other) = (&s.patients[0], &s.patients[1]);
    let own = format!("/v1/patients/{}", p.id);
    app.get(&own, &p.token).await.ok(200);
    app.post(&format!("{own}/unenroll"), &s.clinician, json!(null))
        .await
        .ok(204);
    app.get(&own, &p.token).await.problem(401);
    app.post_anon("/v1/auth/refresh", json!({"refresh_token": p.refresh}))
        .await
        .problem(401);
    // The other patient's phone is untouched.
    app.get(&format!("/v1/patients/{}", other.id), &other.token)
        .await
        .ok(200);

    // Enrolled again, the patient un-enrolls themself; never another patient.
    let (token, _) = app.enroll(&s.clinician, &p.id).await;
    app.post(
        &format!("/v1/patients/{}/unenroll", other.id),
        &token,
        json!(null),
    )
    .await
    .problem(404);
    app.post(&format!("{own}/unenroll"), &token, json!(null))
        .await
        .ok(204);
    app.get(&own, &token).await.problem(401);
}

/// Moves a session's start back in time, as if it had been signed in that long ago.
fn started(app: &TestApp, ago: Duration) {
    let at: DateTime<Utc> = Utc::now() - ago;
    app.db()
        .batch_execute(&format!(
            "UPDATE refresh_tokens SET family_started_at = '{}'",
            at.to_rfc3339()
        ))
        .unwrap();
}

#[tokio::test]
async fn refreshing_never_extends_a_session_past_its_absolute_lifetime() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let (_, email) = clinician(&app, &clinic).await;
    let tokens = app.login(&email, PASSWORD).await;

    // A staff session signed in almost 7 days ago: the new refresh token ends with the session.
    started(&app, Duration::days(7) - Duration::minutes(10));
    let r = refresh(&app, &tokens).await;
    let fresh = r.ok(200).clone();
    let expires: DateTime<Utc> = fresh["refresh_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(expires <= Utc::now() + Duration::minutes(10), "{expires}");
    assert!(expires > Utc::now() + Duration::minutes(9), "{expires}");
    // Past 7 days, no refresh works.
    started(&app, Duration::days(7) + Duration::minutes(1));
    refresh(&app, &fresh).await.problem(401);

    // A phone: 180 days from enrollment.
    let s = app.scenario("Other").await;
    started(&app, Duration::days(180) + Duration::minutes(1));
    app.post_anon(
        "/v1/auth/refresh",
        json!({"refresh_token": s.patients[0].refresh}),
    )
    .await
    .problem(401);
    started(&app, Duration::days(180) - Duration::hours(1));
    let r = app
        .post_anon(
            "/v1/auth/refresh",
            json!({"refresh_token": s.patients[1].refresh}),
        )
        .await;
    let expires: DateTime<Utc> = r.ok(200)["refresh_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(expires <= Utc::now() + Duration::hours(1), "{expires}");
}
