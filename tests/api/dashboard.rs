//! The clinicians' dashboard: its files are served with a policy of their own.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_with_a_policy_of_its_own() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/dashboard", "text/html"),
        ("/dashboard/", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/api.js", "text/javascript"),
        ("/dashboard/charts.js", "text/javascript"),
        ("/dashboard/app.css", "text/css"),
        ("/dashboard/favicon.svg", "image/svg+xml"),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert!(header("content-type").starts_with(content_type), "{path}");
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(header("cache-control"), "no-store");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        let body = r.text().await.unwrap();
        if content_type == "text/html" {
            // Works offline: every file comes from this server.
            assert!(
                !body.contains("//"),
                "the page loads something from elsewhere"
            );
            assert!(body.contains("/dashboard/app.js"));
        }
    }
    app.request(reqwest::Method::GET, "/dashboard/nope.js", None, None)
        .await
        .problem(404);
    app.request(reqwest::Method::GET, "/dashboard/a/b", None, None)
        .await
        .problem(404);
    let r = app
        .request(reqwest::Method::POST, "/dashboard", None, Some(&json!({})))
        .await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET"));
    // The API keeps its own strict policy, and the dashboard is no API operation.
    let livez = app
        .request(reqwest::Method::GET, "/livez", None, None)
        .await;
    assert!(
        livez
            .header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'none'; frame-ancestors")
    );
    assert!(
        aftercare::api::openapi()
            .paths
            .paths
            .keys()
            .all(|p| !p.starts_with("/dashboard"))
    );
}
