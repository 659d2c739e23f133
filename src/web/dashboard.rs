//! The clinicians' dashboard at `/dashboard`: plain HTML, CSS and JavaScript built into the binary,
//! so it works offline and ships with the API it calls. The pages call the public API like any
//! other client; they hold no data of their own and are not API operations (no OpenAPI entry).

use actix_web::{HttpRequest, HttpResponse, guard, web};

use crate::error::ApiError;
use crate::web::assets::{self, Asset, CSS, HTML, SVG};

/// The paths the dashboard answers (GET only); the route table answers 405 for other methods. The
/// modules it shares with the app are its `shared/` files.
pub const PATHS: [&str; 4] = [
    "/dashboard",
    "/dashboard/",
    "/dashboard/{file}",
    "/dashboard/{file:shared/[^/]+}",
];

/// The files, by name under `/dashboard/`; the page itself has the empty name. The shared modules
/// (`shared/api.js`, `shared/dom.js`, `shared/smart.js`) come from `assets`.
const ASSETS: [Asset; 26] = [
    Asset::new("", HTML, include_bytes!("dashboard/index.html")),
    Asset::new("app.css", CSS, include_bytes!("dashboard/app.css")),
    Asset::script("app.js", include_bytes!("dashboard/app.js")),
    Asset::script("login.js", include_bytes!("dashboard/login.js")),
    Asset::script("alerts.js", include_bytes!("dashboard/alerts.js")),
    Asset::script("patients.js", include_bytes!("dashboard/patients.js")),
    Asset::script("patient.js", include_bytes!("dashboard/patient.js")),
    Asset::script("photos.js", include_bytes!("dashboard/photos.js")),
    Asset::script("protocols.js", include_bytes!("dashboard/protocols.js")),
    Asset::script("protocol.js", include_bytes!("dashboard/protocol.js")),
    Asset::script("compare.js", include_bytes!("dashboard/compare.js")),
    Asset::script("dom.js", include_bytes!("dashboard/dom.js")),
    Asset::script("forms.js", include_bytes!("dashboard/forms.js")),
    Asset::script("shared.js", include_bytes!("dashboard/shared.js")),
    Asset::script("api.js", include_bytes!("dashboard/api.js")),
    Asset::script("charts.js", include_bytes!("dashboard/charts.js")),
    Asset::script("enroll.js", include_bytes!("dashboard/enroll.js")),
    Asset::script("worklist.js", include_bytes!("dashboard/worklist.js")),
    Asset::script("smart.js", include_bytes!("dashboard/smart.js")),
    Asset::script(
        "patient_words.js",
        include_bytes!("dashboard/patient_words.js"),
    ),
    Asset::script(
        "treatment_forms.js",
        include_bytes!("dashboard/treatment_forms.js"),
    ),
    Asset::script(
        "patient_form.js",
        include_bytes!("dashboard/patient_form.js"),
    ),
    Asset::script("settings.js", include_bytes!("dashboard/settings.js")),
    Asset::script(
        "protocol_form.js",
        include_bytes!("dashboard/protocol_form.js"),
    ),
    Asset::script(
        "qrcode.js",
        include_bytes!("vendor/qrcode-generator/qrcode.js"),
    ),
    Asset::new("favicon.svg", SVG, include_bytes!("dashboard/favicon.svg")),
];

/// Registers the dashboard's GET routes; other methods fall through to the route table's 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATHS).guard(guard::Get()).to(asset));
}

async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (asset, mut res) = assets::find(&ASSETS, &req)?;
    Ok(res.body(asset.body))
}

/// Whether a path belongs to the dashboard, which gets its own Content-Security-Policy.
pub fn is_dashboard(path: &str) -> bool {
    path == "/dashboard" || path.starts_with("/dashboard/")
}
