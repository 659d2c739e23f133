//! Files built into the binary and served at GET paths: the clinicians' dashboard and the patients'
//! app. Each lists its files; a request's `{file}` names one, and the page itself has the empty name.
//! Both also serve the modules they share (`src/web/shared/`) under their own path, as
//! `shared/{name}`, so each keeps its own Content-Security-Policy and the app keeps them offline.

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::error::ApiError;

pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";
pub const SVG: &str = "image/svg+xml";
const JS: &str = "text/javascript; charset=utf-8";

impl Asset {
    pub const fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
        Asset {
            name,
            content_type,
            body,
        }
    }

    /// A script: one module per screen, and the shared ones.
    pub const fn script(name: &'static str, body: &'static [u8]) -> Asset {
        Asset::new(name, JS, body)
    }
}

/// The modules both front ends import: the API client, the DOM helpers and what the SMART consent
/// pages read of an authorization request.
const SHARED: [Asset; 3] = [
    Asset::script("shared/api.js", include_bytes!("shared/api.js")),
    Asset::script("shared/dom.js", include_bytes!("shared/dom.js")),
    Asset::script("shared/smart.js", include_bytes!("shared/smart.js")),
];

/// The file the request names, and its answer so far (200, with its content type); not found if
/// it is neither one of `assets` nor a shared module.
pub fn find<'a>(
    assets: &'a [Asset],
    req: &HttpRequest,
) -> Result<(&'a Asset, HttpResponseBuilder), ApiError> {
    let name = req.match_info().get("file").unwrap_or("");
    let asset = assets
        .iter()
        .chain(&SHARED)
        .find(|a| a.name == name)
        .ok_or(ApiError::NotFound)?;
    let mut res = HttpResponse::Ok();
    res.content_type(asset.content_type);
    Ok((asset, res))
}
