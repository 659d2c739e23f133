//! The clinicians' dashboard at `/dashboard`: plain HTML, CSS and JavaScript built into the binary,
//! so it works offline and ships with the API it calls. The pages call the public API like any
//! other client; they hold no data of their own and are not API operations (no OpenAPI entry).

use actix_web::{HttpRequest, HttpResponse, guard, web};

use crate::error::ApiError;

/// The paths the dashboard answers (GET only); the route table answers 405 for other methods.
pub const PATHS: [&str; 3] = ["/dashboard", "/dashboard/", "/dashboard/{file}"];

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// A script of the dashboard: one module per screen, and the shared ones.
const fn script(name: &'static str, body: &'static [u8]) -> Asset {
    Asset {
        name,
        content_type: JS,
        body,
    }
}

/// The files, by name under `/dashboard/`; the page itself has the empty name.
const ASSETS: [Asset; 17] = [
    Asset {
        name: "",
        content_type: HTML,
        body: include_bytes!("dashboard/index.html"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("dashboard/app.css"),
    },
    script("app.js", include_bytes!("dashboard/app.js")),
    script("login.js", include_bytes!("dashboard/login.js")),
    script("alerts.js", include_bytes!("dashboard/alerts.js")),
    script("patients.js", include_bytes!("dashboard/patients.js")),
    script("patient.js", include_bytes!("dashboard/patient.js")),
    script("protocols.js", include_bytes!("dashboard/protocols.js")),
    script("protocol.js", include_bytes!("dashboard/protocol.js")),
    script("compare.js", include_bytes!("dashboard/compare.js")),
    script("dom.js", include_bytes!("dashboard/dom.js")),
    script("shared.js", include_bytes!("dashboard/shared.js")),
    script("api.js", include_bytes!("dashboard/api.js")),
    script("charts.js", include_bytes!("dashboard/charts.js")),
    script("enroll.js", include_bytes!("dashboard/enroll.js")),
    script("qrcode.js", include_bytes!("dashboard/qrcode.js")),
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("dashboard/favicon.svg"),
    },
];

/// Registers the dashboard's GET routes; other methods fall through to the route table's 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATHS).guard(guard::Get()).to(asset));
}

async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let name = req.match_info().get("file").unwrap_or("");
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .body(asset.body))
}

/// Whether a path belongs to the dashboard, which gets its own Content-Security-Policy.
pub fn is_dashboard(path: &str) -> bool {
    path == "/dashboard" || path.starts_with("/dashboard/")
}
