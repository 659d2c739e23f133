//! The patients' web app at `/app`: plain HTML, CSS and JavaScript built into the binary, with its
//! manifest, icons and service worker, so a phone installs it from a link and opens it offline. It
//! calls the public API like any other client; its files are not API operations (no OpenAPI entry).

use actix_web::{HttpRequest, HttpResponse, guard, web};

use crate::error::ApiError;

/// The paths the app answers (GET only); the route table answers 405 for other methods.
pub const PATHS: [&str; 3] = ["/app", "/app/", "/app/{file}"];

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";

/// A script of the app: one module per screen, and the shared ones.
const fn script(name: &'static str, body: &'static [u8]) -> Asset {
    Asset {
        name,
        content_type: JS,
        body,
    }
}

/// The files, by name under `/app/`; the page itself has the empty name.
const ASSETS: [Asset; 20] = [
    Asset {
        name: "",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("app/index.html"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("app/app.css"),
    },
    Asset {
        name: "app.webmanifest",
        content_type: "application/manifest+json",
        body: include_bytes!("app/app.webmanifest"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("app/icon.svg"),
    },
    Asset {
        name: "icon-192.png",
        content_type: "image/png",
        body: include_bytes!("app/icon-192.png"),
    },
    Asset {
        name: "icon-512.png",
        content_type: "image/png",
        body: include_bytes!("app/icon-512.png"),
    },
    script("sw.js", include_bytes!("app/sw.js")),
    script("app.js", include_bytes!("app/app.js")),
    script("api.js", include_bytes!("app/api.js")),
    script("dom.js", include_bytes!("app/dom.js")),
    script("i18n.js", include_bytes!("app/i18n.js")),
    script("store.js", include_bytes!("app/store.js")),
    script("outbox.js", include_bytes!("app/outbox.js")),
    script("data.js", include_bytes!("app/data.js")),
    script("enroll.js", include_bytes!("app/enroll.js")),
    script("today.js", include_bytes!("app/today.js")),
    script("check_in.js", include_bytes!("app/check_in.js")),
    script("recovery.js", include_bytes!("app/recovery.js")),
    script("care.js", include_bytes!("app/care.js")),
    script("reminders.js", include_bytes!("app/reminders.js")),
];

/// The service worker's file, allowed to control all of `/app` (the page itself is `/app`, above
/// the worker's own folder).
const WORKER: &str = "sw.js";

/// Registers the app's GET routes; other methods fall through to the route table's 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATHS).guard(guard::Get()).to(asset));
}

async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let name = req.match_info().get("file").unwrap_or("");
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or(ApiError::NotFound)?;
    let mut res = HttpResponse::Ok();
    res.content_type(asset.content_type);
    if name == WORKER {
        res.insert_header(("service-worker-allowed", "/app"));
    }
    Ok(res.body(asset.body))
}

/// Whether a path belongs to the app, which gets its own Content-Security-Policy.
pub fn is_app(path: &str) -> bool {
    path == "/app" || path.starts_with("/app/")
}
