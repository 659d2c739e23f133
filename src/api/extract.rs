//! Request extraction that fails with problem+json: JSON bodies with a size limit and field paths in
//! their errors, the page parameters of lists, and the error handlers for actix's own extractors.

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, dev::Payload, web};
use chrono::Utc;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::RouteTable;
use crate::db::audit::Event;
use crate::db::{Cursor, PageRequest, Tenant, cursor_time};
use crate::domain::audit::{Audit, Id};
use crate::error::{ApiError, FieldError};
use crate::web::auth::Caller;
use crate::web::http::RequestId;

pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body of at most `LIMIT` bytes. Malformed JSON is a 400; JSON of the wrong shape
/// (a wrong type, an unknown or missing field, an unknown code) is a 422 naming the field.
pub struct Json<T, const LIMIT: usize = DEFAULT_BODY_LIMIT>(pub T);

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for Json<T, LIMIT> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_len.is_some_and(|n| n > LIMIT) {
                return Err(ApiError::PayloadTooLarge(LIMIT));
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::BadRequest(format!("reading the body failed: {e}"), vec![])
                })?;
                if body.len() + chunk.len() > LIMIT {
                    return Err(ApiError::PayloadTooLarge(LIMIT));
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(Json)
        })
    }
}

/// Deserializes JSON, telling a syntax error (400) from a value of the wrong shape (422, with its path).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if has_nul_escape(body) {
        return Err(ApiError::invalid(
            "body",
            "text must not contain the NUL character (\\u0000)",
        ));
    }
    let mut json: serde_json::Value = serde_json::from_slice(body).map_err(|e| not_json(&e))?;
    // Every body is an object: serde would also read a struct from an array of its fields.
    if !json.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    integral_floats_to_integers(&mut json);
    strings_to_nfc(&mut json);
    serde_path_to_error::deserialize(json).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            // An unknown map key shows as `?`: name the map instead.
            let path = path.trim_end_matches(".?");
            let field = if path == "." || path == "?" {
                "body"
            } else {
                path
            };
            ApiError::Validation(vec![FieldError::new(
                field,
                without_position(&inner.to_string()),
            )])
        } else {
            not_json(&inner)
        }
    })
}

/// JSON has one number type: `2.0` is the integer 2 (JSON Schema agrees), but serde refuses it for
/// an integer field. Numbers without a fractional part are made integers before the request type
/// sees them; a float field takes an integer all the same.
fn integral_floats_to_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *n = serde_json::Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// Every string of a body in Unicode NFC, so that one text is stored, compared and checked as one
/// sequence of code points however the client composed it.
fn strings_to_nfc(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Some(nfc) = crate::domain::text::nfc(s) {
                *s = nfc;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strings_to_nfc),
        Value::Object(fields) => fields.values_mut().for_each(strings_to_nfc),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// PostgreSQL can't store NUL in text, so it is refused before it gets there. (Raw NUL bytes are
/// not valid JSON anyway.)
fn has_nul_escape(body: &[u8]) -> bool {
    body.windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|&b| b == b'0'))
}

fn not_json(e: &serde_json::Error) -> ApiError {
    ApiError::BadRequest(
        format!(
            "the body is not valid JSON: {}",
            without_position(&e.to_string())
        ),
        vec![],
    )
}

/// serde_json ends its messages with " at line L column C", which means nothing to a form.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Page parameters of every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// How many items, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

pub const MAX_PAGE: i64 = 200;

/// Dates a query may name: no treatment is older, and none is centuries ahead.
const SANE_DATES: std::ops::RangeInclusive<chrono::NaiveDate> =
    chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date")
        ..=chrono::NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date");

/// Names each of the query's dates that lies outside [`SANE_DATES`].
pub fn check_dates(errors: &mut Vec<FieldError>, dates: [(&str, Option<chrono::NaiveDate>); 2]) {
    for (name, date) in dates {
        if date.is_some_and(|d| !SANE_DATES.contains(&d)) {
            errors.push(FieldError::new(
                name,
                "must be from 2000-01-01 to 2100-12-31",
            ));
        }
    }
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(50);
        let mut errors = vec![];
        if !(1..=MAX_PAGE).contains(&limit) {
            errors.push(FieldError::new("limit", "must be from 1 to 200"));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => {
                let cursor = decode_cursor(c);
                if cursor.is_none() {
                    errors.push(FieldError::new(
                        "cursor",
                        "is not a cursor this API gave out",
                    ));
                }
                cursor
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(
                "the query parameters are not valid".into(),
                errors,
            ));
        }
        Ok(PageRequest { after, limit })
    }
}

pub fn encode_cursor(c: Cursor) -> String {
    crate::db::cursor_token(&format!("{}.{}", c.at.timestamp_micros(), c.id))
}

fn decode_cursor(s: &str) -> Option<Cursor> {
    let text = crate::db::cursor_text(s)?;
    let (micros, id) = text.split_once('.')?;
    Some(Cursor {
        at: cursor_time(micros)?,
        id: id.parse().ok()?,
    })
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new<R>(rows: Vec<R>, next: Option<Cursor>, f: impl FnMut(R) -> T) -> Page<T> {
        Page {
            items: rows.into_iter().map(f).collect(),
            next_cursor: next.map(encode_cursor),
        }
    }
}

/// actix's own path and query extractors answer with problems too.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| {
        // A path of the document without parameters wins over a template that also matches it
        // (`/v1/check-ins/batch` over `/v1/check-ins/{id}`): a method the literal path doesn't
        // have is answered 405, not taken for a malformed id.
        let literal = req
            .app_data::<web::Data<RouteTable>>()
            .and_then(|routes| routes.literal_path_mismatch(req));
        literal
            .unwrap_or_else(|| {
                ApiError::BadRequest(format!("a path parameter is not valid: {err}"), vec![])
            })
            .into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        ApiError::BadRequest(format!("a query parameter is not valid: {err}"), vec![]).into()
    })
}

/// Deserializes a JSON field that may be absent (`None`), null (`Some(None)`) or set, as PATCH needs.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A 201 answer with the new resource and where it lives.
pub fn created(location: String, body: impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// Marks a request whose handler wrote its audit record itself, in the transaction of its change;
/// the audit middleware then writes none.
pub struct Audited;

/// The audit record of a request on a route in the trail with a known caller, as far as the request
/// tells it: the answer's status and the id of what it created are for the writer to fill in.
pub fn audit_draft(req: &HttpRequest) -> Option<(Tenant, Audit, Event)> {
    let caller = req.extensions().get::<Caller>().copied()?;
    let route = super::operation_of(req)?.audit?;
    let id = |id: Id| -> Option<Uuid> {
        match id {
            Id::Path(name) => req.match_info().get(name)?.parse().ok(),
            Id::Query(name) => url::form_urlencoded::parse(req.query_string().as_bytes())
                .find(|(key, _)| key == name)?
                .1
                .parse()
                .ok(),
            Id::Created | Id::None => None,
        }
    };
    let event = Event {
        id: Uuid::new_v4(),
        at: Utc::now(),
        actor_id: caller.id,
        actor_role: match req.extensions().get::<crate::web::auth::SystemClient>() {
            Some(_) => "system".to_string(),
            None => caller.role.as_str().to_string(),
        },
        action: route.action.as_str().to_string(),
        resource_type: route.resource_type.to_string(),
        resource_id: id(route.resource_id),
        lookup: route
            .patient_of
            .and_then(|(table, i)| Some((table, id(i)?))),
        caller_patient: (caller.role == crate::web::auth::Role::Patient).then_some(caller.id),
        request_id: req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        status: 0,
        outcome: String::new(),
    };
    Some((caller.tenant, route, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        inner: Inner,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    #[test]
    fn wrong_shapes_name_their_field_and_syntax_errors_do_not() {
        let err = parse::<Body>(br#"{"inner": {"n": 300}}"#).unwrap_err();
        let ApiError::Validation(errors) = err else {
            panic!("{err:?}")
        };
        assert_eq!(errors[0].field, "inner.n");
        assert!(!errors[0].message.contains("line"));
        assert!(matches!(
            parse::<Body>(b"{\"inner\": "),
            Err(ApiError::BadRequest(..))
        ));
        assert!(matches!(
            parse::<Body>(br#"{"inner": {"n": 1}} x"#),
            Err(ApiError::BadRequest(..))
        ));
        let err = parse::<Body>(br#"{"inner": {"n": 1}, "extra": 1}"#).unwrap_err();
        assert!(matches!(err, ApiError::Validation(_)));
        assert_eq!(
            parse::<Body>(br#"{"inner": {"n": 2.0}}"#).unwrap().inner.n,
            2
        );
        let err = parse::<Body>(br#"{"inner": {"n": 2.5}}"#).unwrap_err();
        assert!(matches!(err, ApiError::Validation(e) if e[0].field == "inner.n"));
        let err = parse::<Body>(br#"{"inner": {"n": 1}, "x": "a\u0000b"}"#).unwrap_err();
        assert!(matches!(err, ApiError::Validation(e) if e[0].field == "body"));
    }

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let c = Cursor {
            at: chrono::Utc::now(),
            id: uuid::Uuid::new_v4(),
        };
        let back = decode_cursor(&encode_cursor(c)).unwrap();
        assert_eq!(back.id, c.id);
        assert_eq!(back.at.timestamp_micros(), c.at.timestamp_micros());
        assert!(decode_cursor("nonsense").is_none());
    }

    #[test]
    fn cursors_outside_the_years_1_to_9999_are_refused() {
        let forged =
            |micros: i64| crate::db::cursor_token(&format!("{micros}.{}", uuid::Uuid::nil()));
        assert!(decode_cursor(&forged(*crate::db::CURSOR_MICROS.start())).is_some());
        assert!(decode_cursor(&forged(crate::db::CURSOR_MICROS.start() - 1)).is_none());
        assert!(decode_cursor(&forged(-210_000_000_000_000_000)).is_none()); // 4714 BC
        assert!(decode_cursor(&forged(*crate::db::CURSOR_MICROS.end())).is_some());
        assert!(decode_cursor(&forged(crate::db::CURSOR_MICROS.end() + 1)).is_none());
        assert!(decode_cursor(&forged(i64::MAX)).is_none());
    }
}
