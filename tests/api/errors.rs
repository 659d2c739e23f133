use serde_json::json;

use crate::helpers::*;

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Resp {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body =
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap_or(serde_json::Value::Null);
    Resp {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    let r = app
        .request(reqwest::Method::GET, "/v1/nothing-here", None, None)
        .await;
    r.problem(404);
    let r = app
        .request(reqwest::Method::DELETE, "/v1/patients", None, None)
        .await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/patients/{}", uuid::Uuid::new_v4()),
            None,
            None,
        )
        .await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, PATCH"));
}

#[tokio::test]
async fn a_path_without_parameters_wins_over_a_template_that_matches_it() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    // `/v1/check-ins/{id}` answers GET, but `batch` is no id: the batch path only takes POST.
    let r = app.get("/v1/check-ins/batch", &s.clinician).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = app
        .request(reqwest::Method::PATCH, "/v1/check-ins/batch", None, None)
        .await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("POST"));
    app.get("/v1/check-ins/not-a-uuid", &s.clinician)
        .await
        .problem(400);
}

#[tokio::test]
async fn integers_written_with_a_zero_fraction_are_integers() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let r = app
        .post(
            "/v1/patients",
            &s.clinician,
            json!({"external_ref": "FLOAT-1", "fitzpatrick_type": 3.0, "birth_year": 1990.0}),
        )
        .await;
    assert_eq!(r.ok(201)["fitzpatrick_type"], 3);
    let r = app
        .post(
            "/v1/patients",
            &s.clinician,
            json!({"external_ref": "FLOAT-2", "fitzpatrick_type": 3.5}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "fitzpatrick_type");
}

#[tokio::test]
async fn malformed_input_is_a_problem_not_a_crash() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let t = Some(s.clinician.as_str());
    let post = reqwest::Method::POST;
    raw(
        &app,
        post.clone(),
        "/v1/patients",
        t,
        "application/json",
        b"{\"external_ref\": ".to_vec(),
    )
    .await
    .problem(400);
    raw(
        &app,
        post.clone(),
        "/v1/patients",
        t,
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .problem(415);
    raw(
        &app,
        post.clone(),
        "/v1/patients",
        t,
        "application/json",
        b"[1, 2]".to_vec(),
    )
    .await
    .problem(422);
    let r = app
        .post("/v1/patients", &s.clinician, json!({"external_ref": 42}))
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "external_ref");
    let r = app.post("/v1/patients", &s.clinician, json!({})).await;
    r.problem(422);
    app.get("/v1/patients/not-a-uuid", &s.clinician)
        .await
        .problem(400);
    app.get("/v1/patients?limit=0", &s.clinician)
        .await
        .problem(400);
    app.get("/v1/patients?limit=201", &s.clinician)
        .await
        .problem(400);
    app.get("/v1/patients?limit=ten", &s.clinician)
        .await
        .problem(400);
    // PostgreSQL can't store NUL: it is refused up front, not with a 500.
    let r = app
        .post(
            "/v1/patients",
            &s.clinician,
            json!({"external_ref": "x", "display_name": "a\u{0}b"}),
        )
        .await;
    r.problem(422);
    app.post_anon(
        "/v1/auth/login",
        json!({"email": "a\u{0}@b.example", "password": "x"}),
    )
    .await
    .problem(422);
    app.get("/v1/symptoms/a%00b", &s.clinician)
        .await
        .problem(404);
    let far_past = json!({"protocol_id": s.protocol, "performed_at": "0001-01-01T00:00:00Z", "contraindications": no_contraindications()});
    app.post(
        &format!("/v1/patients/{}/treatments", s.patients[0].id),
        &s.clinician,
        far_past,
    )
    .await
    .problem(422);
    let r = app.get("/v1/patients?cursor=forged", &s.clinician).await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let big = json!({"external_ref": "x".repeat(70 * 1024)})
        .to_string()
        .into_bytes();
    let r = raw(
        &app,
        reqwest::Method::POST,
        "/v1/patients",
        Some(&s.clinician),
        "application/json",
        big,
    )
    .await;
    r.problem(413);
    // A batch may be up to 1 MiB: 70 KiB is fine there (and refused for its content, not its size)...
    let note = "n".repeat(70 * 1024);
    let p = &s.patients[0];
    let long_note =
        CheckIn::new(&p.treatment, chrono::Utc::now(), json!({"redness": 1})).note(&note);
    let r = app.check_in_batch(&p.token, &[long_note]).await;
    assert_eq!(r.ok(200)["results"][0]["status"], 422);
    // ...but not over 1 MiB.
    let huge = json!({"check_ins": ["x".repeat(1100 * 1024)]})
        .to_string()
        .into_bytes();
    let r = raw(
        &app,
        reqwest::Method::POST,
        "/v1/check-ins/batch",
        Some(&s.patients[0].token),
        "application/json",
        huge,
    )
    .await;
    r.problem(413);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let ok = app
        .request(reqwest::Method::GET, "/livez", None, None)
        .await;
    let missing = app.request(reqwest::Method::GET, "/nope", None, None).await;
    let unauthorized = app
        .request(reqwest::Method::GET, "/v1/me", None, None)
        .await;
    let ids: Vec<_> = [&ok, &missing, &unauthorized]
        .iter()
        .map(|r| r.header("x-request-id").unwrap().to_string())
        .collect();
    assert!(ids.iter().all(|id| id.len() == 36));
    assert_ne!(ids[0], ids[1]);
    // A caller's own id is kept, so a support request can quote it.
    let res = app
        .client
        .get(format!("{}/livez", app.base))
        .header("x-request-id", "app-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "app-1234");
}

#[tokio::test]
async fn health_endpoints_answer() {
    let app = spawn_app().await;
    assert_eq!(
        app.request(reqwest::Method::GET, "/livez", None, None)
            .await
            .ok(200)["status"],
        "ok"
    );
    assert_eq!(
        app.request(reqwest::Method::GET, "/readyz", None, None)
            .await
            .ok(200)["status"],
        "ok"
    );
}
