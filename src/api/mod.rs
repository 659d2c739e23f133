//! The HTTP API: every route is registered in [`routes`], and the OpenAPI document is collected from
//! the same registration, so the two can't disagree.

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod check_ins;
pub mod extract;
pub mod health;
pub mod outcomes;
pub mod patients;
pub mod protocols;
pub mod recovery;
pub mod staff;
pub mod symptoms;
pub mod treatments;

use actix_web::dev::ResourceDef;
use actix_web::http::{Method, header};
use actix_web::{App, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, service_config::ServiceConfig};

use crate::error::{ApiError, FieldError, Problem};

/// Registers every documented route. The one place routes are listed.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::livez)
        .service(health::readyz)
        .service(auth::login)
        .service(auth::enroll)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(staff::create)
        .service(staff::list)
        .service(staff::get)
        .service(symptoms::list)
        .service(symptoms::create)
        .service(symptoms::get)
        .service(protocols::create)
        .service(protocols::list)
        // Before `/v1/protocols/{id}`, which would take "compare" for an id.
        .service(recovery::compare)
        .service(protocols::get)
        .service(recovery::protocol_recovery)
        .service(patients::create)
        .service(patients::list)
        .service(patients::get)
        .service(patients::update)
        .service(patients::create_enrollment_code)
        .service(patients::get_enrollment_code)
        .service(treatments::create)
        .service(treatments::list)
        .service(treatments::get)
        .service(treatments::get_schedule)
        .service(check_ins::create)
        .service(check_ins::create_batch)
        .service(check_ins::get)
        .service(check_ins::list)
        .service(recovery::patient_recovery)
        .service(recovery::dashboard)
        .service(alerts::list)
        .service(alerts::get)
        .service(alerts::acknowledge)
        .service(alerts::resolve)
        .service(outcomes::create_adverse_event)
        .service(outcomes::list_adverse_events)
        .service(outcomes::get_adverse_event)
        .service(outcomes::update_adverse_event)
        .service(outcomes::create_outcome)
        .service(outcomes::list_outcomes)
        .service(outcomes::get_outcome)
        .service(outcomes::protocol_outcomes)
        .service(audit::list);
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Aftercare API",
        description = "Follow patients' recovery after skin-needling treatments: daily check-ins from \
            patients' phones, the clinic's protocols, patients and treatments.\n\n\
            Every failure is an RFC 9457 problem (`application/problem+json`) whose `type` is a stable \
            URN such as `urn:aftercare:problem:validation`; validation problems list the wrong fields \
            in `errors`. Every response carries an `X-Request-Id` header.\n\n\
            Lists are paginated: pass a page's `next_cursor` as `cursor` to get the next one.",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "auth", description = "Signing in, tokens and who you are"),
        (name = "staff", description = "Clinicians and admins (admins only)"),
        (name = "symptoms", description = "The symptom catalogue"),
        (name = "protocols", description = "Treatment protocols"),
        (name = "patients", description = "Patients and their enrollment codes"),
        (name = "treatments", description = "Treatment sessions and check-in schedules"),
        (name = "check-ins", description = "Patients' daily check-ins"),
        (name = "alerts", description = "The alert queue: what the rules raised, urgent first"),
        (name = "outcomes", description = "Complications and outcomes weeks later"),
        (name = "recovery", description = "Recovery against the protocol's cohort: curves, time to resolution, comparisons"),
        (name = "audit", description = "The audit trail: who read or changed which patient's data"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

/// The OpenAPI document, collected from the registered routes.
pub fn openapi() -> Document {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    Security.modify(&mut doc);
    doc
}

/// A documented problem response: status, description, and a header it carries.
type ProblemResponse = (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// Declares the bearer scheme, and the problem responses every operation can give, so that no
/// operation forgets one: 400 for malformed input, 401/403 where a token is needed, 404 where the
/// path names a resource, 413/415/422 where there is a body, 503 and 500 everywhere.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        let problems: [ProblemResponse; 9] = [
            (
                "400",
                "The request is malformed: a body that is not JSON, or a bad path or query parameter",
                None,
            ),
            (
                "401",
                "No valid access token",
                Some(("WWW-Authenticate", "Bearer")),
            ),
            ("403", "The token's role may not do this", None),
            (
                "404",
                "No such resource in your clinic (or, for a patient, of yours)",
                None,
            ),
            (
                "413",
                "The body is larger than 64 KiB (1 MiB for a batch)",
                None,
            ),
            ("415", "The body is not application/json", None),
            (
                "422",
                "The request is well-formed but not valid; `errors` names each wrong field",
                None,
            ),
            (
                "500",
                "An unexpected error; logged under the response's X-Request-Id",
                None,
            ),
            (
                "503",
                "The database is not answering; retry after Retry-After seconds",
                Some(("Retry-After", "Seconds to wait")),
            ),
        ];
        for (status, description, header) in problems {
            let mut response = ResponseBuilder::new().description(description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
            if let Some((name, about)) = header {
                response = response.header(
                    name,
                    utoipa::openapi::HeaderBuilder::new()
                        .schema(Some(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::Type::String),
                        ))
                        .description(Some(about))
                        .build(),
                );
            }
            components
                .responses
                .insert(problem_name(status), RefOr::T(response.build()));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let has_params = path.contains('{');
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                name_operation(op);
            }
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_problems(op, has_params);
            }
        }
    }
}

/// utoipa names an operation after its handler, and handlers of different resources share names
/// (`get`, `list`, `create`), but an operationId must be unique: links and client generators find
/// operations by it. The tag (the resource) makes it so: `patients_get`, `check_ins_create_batch`.
fn name_operation(op: &mut Operation) {
    let tag = op.tags.as_ref().and_then(|tags| tags.first());
    if let (Some(tag), Some(id)) = (tag, &op.operation_id) {
        op.operation_id = Some(format!("{}_{id}", tag.replace('-', "_")));
    }
}

fn problem_name(status: &str) -> String {
    format!("Problem{status}")
}

fn add_problems(op: &mut Operation, has_params: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let statuses = [
        ("400", true),
        ("401", secured),
        ("403", secured),
        ("404", has_params),
        ("413", has_body),
        ("415", has_body),
        ("422", has_body),
        ("500", true),
        ("503", true),
    ];
    for (status, applies) in statuses {
        if applies && !op.responses.responses.contains_key(status) {
            let reference: RefOr<Response> =
                RefOr::Ref(Ref::from_response_name(problem_name(status)));
            op.responses.responses.insert(status.to_string(), reference);
        }
    }
}

/// A 201 answer with the new resource and where it lives.
pub fn created(location: String, body: impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

pub fn clinic_tz(name: &str) -> Result<chrono_tz::Tz, ApiError> {
    name.parse().map_err(|_| {
        ApiError::internal(anyhow::anyhow!(
            "the clinic's time zone {name:?} is not known"
        ))
    })
}

/// The paths the service answers and their methods, to tell an unknown path (404) from a known
/// path asked with the wrong method (405 with `Allow`). Paths without parameters come first: as in
/// OpenAPI, `/v1/check-ins/batch` is matched before `/v1/check-ins/{id}`.
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    pub fn new(doc: &Document) -> RouteTable {
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (item.get.is_some(), Method::GET),
                    (item.post.is_some(), Method::POST),
                    (item.put.is_some(), Method::PUT),
                    (item.patch.is_some(), Method::PATCH),
                    (item.delete.is_some(), Method::DELETE),
                ];
                let allowed = methods
                    .into_iter()
                    .filter(|(has, _)| *has)
                    .map(|(_, m)| m)
                    .collect();
                (ResourceDef::new(path.as_str()), allowed)
            })
            .collect();
        for path in ["/openapi.json", "/docs", "/docs/{tail:.*}"] {
            routes.push((ResourceDef::new(path), vec![Method::GET]));
        }
        routes.sort_by_key(|(def, _)| def.pattern().is_some_and(|p| p.contains('{')));
        RouteTable(routes)
    }

    /// A 405 when the request's path is one of the document's paths without parameters and it
    /// doesn't have the request's method. For a route of a template that also matches that path.
    pub fn literal_path_mismatch(&self, req: &HttpRequest) -> Option<ApiError> {
        let (_, methods) = self.0.iter().find(|(def, _)| {
            def.pattern()
                .is_some_and(|p| !p.contains('{') && p == req.path())
        })?;
        (!methods.contains(req.method())).then(|| Self::not_allowed(methods))
    }

    fn not_allowed(methods: &[Method]) -> ApiError {
        let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
        ApiError::MethodNotAllowed(allow.join(", "))
    }

    /// The answer to a request no route took.
    pub fn fallback(&self, req: &HttpRequest) -> ApiError {
        let allowed = self.0.iter().find(|(def, _)| def.is_match(req.path()));
        match allowed {
            Some((_, methods)) => Self::not_allowed(methods),
            None => ApiError::NotFound,
        }
    }
}
