//! The patients' web app at `/app`: plain HTML, CSS and JavaScript built into the binary, with its
//! manifest, icons and service worker, so a phone installs it from a link and opens it offline. It
//! calls the public API like any other client; its files are not API operations (no OpenAPI entry).

use actix_web::{HttpRequest, HttpResponse, guard, web};

use crate::error::ApiError;
use crate::web::assets::{self, Asset, CSS, HTML, SVG};

/// The paths the app answers (GET only); the route table answers 405 for other methods. The
/// modules it shares with the dashboard are its `shared/` files.
pub const PATHS: [&str; 4] = ["/app", "/app/", "/app/{file}", "/app/{file:shared/[^/]+}"];

const PNG: &str = "image/png";

/// The files, by name under `/app/`; the page itself has the empty name. The shared modules
/// (`shared/api.js`, `shared/dom.js`, `shared/smart.js`) come from `assets`.
const ASSETS: [Asset; 24] = [
    Asset::new("", HTML, include_bytes!("app/index.html")),
    Asset::new("app.css", CSS, include_bytes!("app/app.css")),
    Asset::new(
        "app.webmanifest",
        "application/manifest+json",
        include_bytes!("app/app.webmanifest"),
    ),
    Asset::new("icon.svg", SVG, include_bytes!("app/icon.svg")),
    Asset::new("icon-192.png", PNG, include_bytes!("app/icon-192.png")),
    Asset::new("icon-512.png", PNG, include_bytes!("app/icon-512.png")),
    Asset::script("sw.js", include_bytes!("app/sw.js")),
    Asset::script("app.js", include_bytes!("app/app.js")),
    Asset::script("api.js", include_bytes!("app/api.js")),
    Asset::script("dom.js", include_bytes!("app/dom.js")),
    Asset::script("i18n.js", include_bytes!("app/i18n.js")),
    Asset::script("store.js", include_bytes!("app/store.js")),
    Asset::script("outbox.js", include_bytes!("app/outbox.js")),
    Asset::script("data.js", include_bytes!("app/data.js")),
    Asset::script("enroll.js", include_bytes!("app/enroll.js")),
    Asset::script("today.js", include_bytes!("app/today.js")),
    Asset::script("check_in.js", include_bytes!("app/check_in.js")),
    Asset::script("recovery.js", include_bytes!("app/recovery.js")),
    Asset::script("care.js", include_bytes!("app/care.js")),
    Asset::script("reminders.js", include_bytes!("app/reminders.js")),
    Asset::script("photo.js", include_bytes!("app/photo.js")),
    Asset::script("photo_store.js", include_bytes!("app/photo_store.js")),
    Asset::script("smart.js", include_bytes!("app/smart.js")),
    Asset::script("my_photos.js", include_bytes!("app/my_photos.js")),
];

/// The service worker's file, allowed to control all of `/app` (the page itself is `/app`, above
/// the worker's own folder).
const WORKER: &str = "sw.js";

/// Registers the app's GET routes; other methods fall through to the route table's 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATHS).guard(guard::Get()).to(asset));
}

async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (asset, mut res) = assets::find(&ASSETS, &req)?;
    if asset.name == WORKER {
        res.insert_header(("service-worker-allowed", "/app"));
    }
    Ok(res.body(asset.body))
}

/// Whether a path belongs to the app, which gets its own Content-Security-Policy.
pub fn is_app(path: &str) -> bool {
    path == "/app" || path.starts_with("/app/")
}
