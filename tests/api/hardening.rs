use std::time::Duration;

use aftercare::config::HttpSettings;
use aftercare::error::ApiError;
use aftercare::startup::Background;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_answer_has_security_headers_and_no_cache() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    for r in [
        app.get(&format!("/v1/patients/{}", s.patients[0].id), &s.clinician)
            .await,
        app.get("/v1/nowhere", &s.clinician).await,
        app.request(reqwest::Method::GET, "/livez", None, None)
            .await,
    ] {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert!(
            r.header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'")
        );
        assert!(r.header("strict-transport-security").is_some());
    }
    let docs = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let csp = docs.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = spawn_app_with(
        HttpSettings {
            cors_origins: vec!["https://app.clinic.example".into()],
            ..HttpSettings::default()
        },
        Background::default(),
    )
    .await;
    let s = app.scenario("Lumen").await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/check-ins", app.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://app.clinic.example").await.unwrap();
    assert_eq!(ok.status(), 204);
    let h = ok.headers();
    assert_eq!(
        h["access-control-allow-origin"],
        "https://app.clinic.example"
    );
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    assert_ne!(other.status(), 204);

    let get = app
        .client
        .get(format!("{}/v1/patients", app.base))
        .bearer_auth(&s.clinician)
        .header("origin", "https://app.clinic.example")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(
        get.headers()["access-control-allow-origin"],
        "https://app.clinic.example"
    );
    assert!(
        get.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("location")
    );
    let foreign = app
        .client
        .get(format!("{}/v1/patients", app.base))
        .bearer_auth(&s.clinician)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn docs_can_be_turned_off() {
    let app = spawn_app_with(
        HttpSettings {
            docs: false,
            ..HttpSettings::default()
        },
        Background::default(),
    )
    .await;
    for path in ["/docs/", "/openapi.json"] {
        app.request(reqwest::Method::GET, path, None, None)
            .await
            .problem(404);
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_slow_the_account_down() {
    let app = spawn_app().await;
    let body = |password: &str| json!({"email": "admin-x@nowhere.example", "password": password});
    for _ in 0..aftercare::web::limits::FREE_FAILURES {
        app.post_anon("/v1/auth/login", body("wrong-password-1"))
            .await
            .problem(401);
    }
    let locked = app
        .post_anon("/v1/auth/login", body("wrong-password-1"))
        .await;
    locked.problem(429);
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait));
    // Another account is not affected.
    app.post_anon(
        "/v1/auth/login",
        json!({"email": "someone-else@nowhere.example", "password": "wrong-password-1"}),
    )
    .await
    .problem(401);
}

#[tokio::test]
async fn sign_ins_are_rate_limited_per_account() {
    let app = spawn_app().await;
    let body = json!({"code": "AAAA-BBBB-CCCC"});
    let mut statuses = vec![];
    for _ in 0..=aftercare::web::limits::PER_ACCOUNT.attempts {
        statuses.push(app.post_anon("/v1/auth/enroll", body.clone()).await);
    }
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|r| r.status == 401)
    );
    let last = statuses.last().unwrap();
    last.problem(429);
    assert!(last.header("retry-after").is_some());
}

#[tokio::test]
async fn a_statement_past_its_time_limit_is_a_503() {
    let app = spawn_app().await;
    let url = app.db_url.clone();
    let err = tokio::task::spawn_blocking(move || {
        let pool = aftercare::db::pool(&url, 1, Duration::from_secs(2), Duration::from_millis(50));
        let conn: &mut PgConnection = &mut pool.get().unwrap();
        diesel::sql_query("SELECT pg_sleep(2)")
            .execute(conn)
            .unwrap_err()
    })
    .await
    .unwrap();
    let err = ApiError::from(err);
    assert!(matches!(err, ApiError::TimedOut), "{err:?}");
    assert_eq!(actix_web::ResponseError::status_code(&err), 503);
}

#[tokio::test]
async fn a_request_past_its_time_limit_is_a_503_with_the_usual_headers() {
    let app = spawn_app_with(
        HttpSettings {
            request_timeout: Duration::from_millis(1),
            ..HttpSettings::default()
        },
        Background::default(),
    )
    .await;
    // Checking a password takes far longer than a millisecond.
    let r = app
        .post_anon(
            "/v1/auth/login",
            json!({"email": "a@b.example", "password": "wrong-password-1"}),
        )
        .await;
    assert_eq!(r.problem(503)["type"], "urn:aftercare:problem:timed-out");
    assert!(r.header("retry-after").is_some());
    assert!(r.header("x-request-id").is_some());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_check_ins() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = CheckIn::new(&p.treatment, chrono::Utc::now(), json!({"infection": 1}));
    app.check_in(&p.token, &check_in).await.ok(201);
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"aftercare_http_requests_total{method="POST",route="/v1/check-ins",status="201"}"#,
        r#"aftercare_http_request_duration_seconds_bucket{method="POST",route="/v1/check-ins""#,
        "aftercare_check_ins_stored_total",
        r#"aftercare_alerts_raised_total{level="urgent"}"#,
        "aftercare_db_pool_in_use",
        "aftercare_db_pool_waiting",
    ] {
        assert!(text.contains(expected), "{expected} is not in\n{text}");
    }
}

#[tokio::test]
async fn dates_outside_any_treatment_are_refused() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let r = app
        .get(
            &format!("/v1/protocols/{}/recovery?from=1900-01-01", s.protocol),
            &s.clinician,
        )
        .await;
    assert_eq!(r.error_fields(), ["from"]);
    r.problem(400);
    let r = app
        .get("/v1/audit-events?to=9999-01-01T00:00:00Z", &s.clinic.admin)
        .await;
    assert_eq!(r.error_fields(), ["to"]);
}
