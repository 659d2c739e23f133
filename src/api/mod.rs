//! The HTTP API: every route is registered in [`routes`], and the OpenAPI document is collected from
//! the same registration, so the two can't disagree.

pub mod accounts;
pub mod adverse_events;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod check_ins;
pub mod clinic;
pub mod contract;
pub mod extract;
pub mod fhir;
pub mod fhir_auth;
pub mod fhir_binary;
pub mod fhir_clients;
pub mod fhir_export;
pub mod fhir_terminology;
pub mod health;
mod oauth;
pub mod outcomes;
pub mod patient_data;
pub mod patients;
pub mod photos;
mod problem;
pub mod protocols;
pub mod push;
pub mod recovery;
mod schemas;
pub mod smart_apps;
pub mod smart_authorize;
mod smart_token;
pub mod staff;
pub mod symptoms;
pub mod trail;
pub mod treatments;
pub mod webhooks;
pub mod worklist;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{App, HttpRequest};
use utoipa::openapi::path::Operation as DocOperation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, service_config::ServiceConfig};

use crate::domain::audit::{Action, Lookup};
use crate::domain::audit::{Action::*, Audit, Id, Lookup::*};
use crate::domain::webhooks::{
    AdverseEventData, AlertData, CheckInData, CheckInDueData, PatientData, PhotoData,
    WebhookPayload,
};
use crate::error::{ApiError, FieldError, Problem};

/// What is true of one operation, in one row: its method and path (as its handler declares them),
/// who may call it, and how the audit trail records it.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    /// `a` admin, `c` clinician, `p` patient; another role gets 403 from the `Caller` extractor,
    /// which reads this (`web::auth::RouteRoles`): no handler checks a role. A caller of another clinic gets
    /// 404 for anything of this clinic's, and a patient 404 for another patient's. `public` needs
    /// no token. tests/api/authorization.rs calls every operation as every role and checks this.
    /// Under `/fhir/R4`, a registered system client of the clinic counts as `a` (api::fhir::Reader):
    /// reads and searches are `ac`, Bulk Data export `a`.
    pub roles: &'static str,
    /// How a request that reads or changes patient data is recorded; None for the others.
    pub audit: Option<Audit>,
}

const fn audit(
    action: Action,
    resource_type: &'static str,
    resource_id: Id,
    patient_of: Option<(Lookup, Id)>,
) -> Option<Audit> {
    Some(Audit {
        action,
        resource_type,
        resource_id,
        patient_of,
    })
}

const ID: Id = Id::Path("id");

/// The row of the operation the route `req` matched; None off the table.
pub fn operation_of(req: &HttpRequest) -> Option<&'static Operation> {
    let pattern = req.match_pattern()?;
    OPERATIONS
        .iter()
        .find(|o| o.method == req.method().as_str() && o.path == pattern)
}

/// The roles the operation `req` matched admits: the table's word, which the `Caller` extractor
/// enforces (`web::auth::RouteRoles`).
pub fn roles_of(req: &HttpRequest) -> Option<&'static str> {
    operation_of(req).map(|o| o.roles)
}

/// Declares the operations: `routes` registers their handlers in this order, `OPERATIONS` holds
/// their rows.
macro_rules! operations {
    ($($handler:path => $method:literal $path:literal $roles:literal $audit:expr;)*) => {
        /// Registers every documented route. The one place routes are listed.
        pub fn routes(cfg: &mut ServiceConfig) {
            $(cfg.service($handler);)*
        }

        /// Every operation of the API, as `routes` registers them.
        pub static OPERATIONS: &[Operation] = &[
            $(Operation { method: $method, path: $path, roles: $roles, audit: $audit },)*
        ];
    };
}

// A new endpoint is its resource file plus one row here. `/v1/protocols/compare` comes before
// `/v1/protocols/{id}`, which would take "compare" for an id; FHIR's `$export` routes come before
// `/fhir/R4/{type}/{id}` for the same reason.
#[rustfmt::skip]
operations! {
    health::livez => "GET" "/livez" "public" None;
    health::readyz => "GET" "/readyz" "public" None;
    health::metrics => "GET" "/metrics" "public" None;
    auth::login => "POST" "/v1/auth/login" "public" None;
    auth::enroll => "POST" "/v1/auth/enroll" "public" None;
    auth::refresh => "POST" "/v1/auth/refresh" "public" None;
    auth::logout => "POST" "/v1/auth/logout" "acp" None;
    auth::me => "GET" "/v1/me" "acp" None;
    push::config => "GET" "/v1/push/config" "public" None;
    push::subscribe => "POST" "/v1/push-subscriptions" "p" audit(Create, "push_subscription", Id::Created, None);
    push::unsubscribe => "DELETE" "/v1/push-subscriptions/{id}" "p" audit(Delete, "push_subscription", ID, None);
    accounts::change_password => "POST" "/v1/me/password" "ac" audit(ChangePassword, "staff", Id::None, None);
    accounts::redeem_password_reset => "POST" "/v1/auth/password-reset" "public" audit(ResetPassword, "staff", Id::None, None);
    clinic::get => "GET" "/v1/clinic" "acp" None;
    clinic::update => "PATCH" "/v1/clinic" "a" audit(Update, "clinic", Id::None, None);
    staff::create => "POST" "/v1/staff" "a" None;
    staff::list => "GET" "/v1/staff" "a" None;
    staff::get => "GET" "/v1/staff/{id}" "a" None;
    accounts::deactivate => "POST" "/v1/staff/{id}/deactivate" "a" audit(Deactivate, "staff", ID, None);
    accounts::reactivate => "POST" "/v1/staff/{id}/reactivate" "a" audit(Reactivate, "staff", ID, None);
    accounts::issue_password_reset => "POST" "/v1/staff/{id}/password-reset" "a" audit(IssuePasswordReset, "staff", ID, None);
    accounts::list_sessions => "GET" "/v1/staff/{id}/sessions" "ac" audit(List, "staff", ID, None);
    accounts::revoke_session => "POST" "/v1/staff/{id}/sessions/{session_id}/revoke" "ac" audit(RevokeSession, "session", Id::Path("session_id"), None);
    symptoms::list => "GET" "/v1/symptoms" "acp" None;
    symptoms::create => "POST" "/v1/symptoms" "a" None;
    symptoms::get => "GET" "/v1/symptoms/{code}" "acp" None;
    protocols::create => "POST" "/v1/protocols" "ac" None;
    protocols::list => "GET" "/v1/protocols" "ac" None;
    recovery::compare => "GET" "/v1/protocols/compare" "ac" None;
    protocols::get => "GET" "/v1/protocols/{id}" "ac" None;
    recovery::protocol_recovery => "GET" "/v1/protocols/{id}/recovery" "ac" None;
    patients::create => "POST" "/v1/patients" "ac" audit(Create, "patient", Id::Created, Some((Patient, Id::Created)));
    patients::list => "GET" "/v1/patients" "ac" audit(List, "patient", Id::None, None);
    patients::get => "GET" "/v1/patients/{id}" "acp" audit(Read, "patient", ID, Some((Patient, ID)));
    patients::update => "PATCH" "/v1/patients/{id}" "ac" audit(Update, "patient", ID, Some((Patient, ID)));
    patients::create_enrollment_code => "POST" "/v1/patients/{id}/enrollment-codes" "ac" audit(Create, "enrollment_code", Id::Created, Some((Patient, ID)));
    patient_data::unenroll => "POST" "/v1/patients/{id}/unenroll" "acp" audit(Unenroll, "patient", ID, Some((Patient, ID)));
    patient_data::export => "GET" "/v1/patients/{id}/export" "acp" audit(Export, "patient", ID, Some((Patient, ID)));
    patient_data::erase => "POST" "/v1/patients/{id}/erasure" "a" audit(Erase, "patient", ID, Some((ErasedPatient, ID)));
    patients::get_enrollment_code => "GET" "/v1/patients/{id}/enrollment-codes/{code_id}" "ac" audit(Read, "enrollment_code", Id::Path("code_id"), Some((Patient, ID)));
    treatments::create => "POST" "/v1/patients/{id}/treatments" "ac" audit(Create, "treatment", Id::Created, Some((Patient, ID)));
    treatments::list => "GET" "/v1/patients/{id}/treatments" "acp" audit(List, "treatment", Id::None, Some((Patient, ID)));
    treatments::get => "GET" "/v1/treatments/{id}" "acp" audit(Read, "treatment", ID, Some((Treatment, ID)));
    treatments::get_schedule => "GET" "/v1/treatments/{id}/schedule" "acp" audit(Read, "schedule", ID, Some((Treatment, ID)));
    check_ins::create => "POST" "/v1/check-ins" "p" audit(Create, "check_in", Id::Created, Some((CheckIn, Id::Created)));
    check_ins::create_batch => "POST" "/v1/check-ins/batch" "p" audit(Create, "check_in", Id::None, None);
    check_ins::get => "GET" "/v1/check-ins/{id}" "acp" audit(Read, "check_in", ID, Some((CheckIn, ID)));
    check_ins::list => "GET" "/v1/patients/{id}/check-ins" "acp" audit(List, "check_in", Id::None, Some((Patient, ID)));
    photos::upload => "POST" "/v1/check-ins/{id}/photos" "p" audit(Create, "photo", Id::Created, Some((CheckIn, ID)));
    photos::get => "GET" "/v1/check-ins/{id}/photos/{photo_id}" "acp" audit(Read, "photo", Id::Path("photo_id"), Some((CheckIn, ID)));
    photos::thumbnail => "GET" "/v1/check-ins/{id}/photos/{photo_id}/thumbnail" "acp" audit(Read, "photo_thumbnail", Id::Path("photo_id"), Some((CheckIn, ID)));
    photos::give_before_after => "PUT" "/v1/check-ins/{id}/photos/{photo_id}/before-after-consent" "p" audit(Update, "photo_consent", Id::Path("photo_id"), Some((CheckIn, ID)));
    photos::withdraw_before_after => "DELETE" "/v1/check-ins/{id}/photos/{photo_id}/before-after-consent" "p" audit(Delete, "photo_consent", Id::Path("photo_id"), Some((CheckIn, ID)));
    photos::flag => "PUT" "/v1/check-ins/{id}/photos/{photo_id}/review-flag" "ac" audit(Update, "photo_review_flag", Id::Path("photo_id"), Some((CheckIn, ID)));
    photos::unflag => "DELETE" "/v1/check-ins/{id}/photos/{photo_id}/review-flag" "ac" audit(Delete, "photo_review_flag", Id::Path("photo_id"), Some((CheckIn, ID)));
    photos::list => "GET" "/v1/patients/{id}/photos" "acp" audit(List, "photo", Id::None, Some((Patient, ID)));
    recovery::patient_recovery => "GET" "/v1/patients/{id}/recovery" "acp" audit(Read, "recovery", ID, Some((Patient, ID)));
    recovery::dashboard => "GET" "/v1/dashboard" "ac" audit(Read, "dashboard", Id::None, None);
    alerts::list => "GET" "/v1/alerts" "ac" audit(List, "alert", Id::None, Some((Patient, Id::Query("patient_id"))));
    worklist::get => "GET" "/v1/worklist" "ac" audit(List, "worklist", Id::None, None);
    worklist::mark_note_read => "POST" "/v1/check-ins/{id}/note-read" "ac" audit(Update, "check_in", ID, Some((CheckIn, ID)));
    worklist::take => "PUT" "/v1/treatments/{id}/assignee" "ac" audit(Update, "treatment_assignee", ID, Some((Treatment, ID)));
    worklist::release => "DELETE" "/v1/treatments/{id}/assignee" "ac" audit(Delete, "treatment_assignee", ID, Some((Treatment, ID)));
    alerts::burden => "GET" "/v1/alerts/burden" "ac" audit(Read, "alert_burden", Id::None, None);
    alerts::get => "GET" "/v1/alerts/{id}" "ac" audit(Read, "alert", ID, Some((Alert, ID)));
    alerts::acknowledge => "POST" "/v1/alerts/{id}/acknowledge" "ac" audit(Acknowledge, "alert", ID, Some((Alert, ID)));
    alerts::resolve => "POST" "/v1/alerts/{id}/resolve" "ac" audit(Resolve, "alert", ID, Some((Alert, ID)));
    adverse_events::create_adverse_event => "POST" "/v1/treatments/{id}/adverse-events" "ac" audit(Create, "adverse_event", Id::Created, Some((Treatment, ID)));
    adverse_events::list_adverse_events => "GET" "/v1/treatments/{id}/adverse-events" "ac" audit(List, "adverse_event", Id::None, Some((Treatment, ID)));
    adverse_events::get_adverse_event => "GET" "/v1/treatments/{id}/adverse-events/{event_id}" "ac" audit(Read, "adverse_event", Id::Path("event_id"), Some((Treatment, ID)));
    adverse_events::update_adverse_event => "PATCH" "/v1/treatments/{id}/adverse-events/{event_id}" "ac" audit(Update, "adverse_event", Id::Path("event_id"), Some((Treatment, ID)));
    outcomes::create_outcome => "POST" "/v1/treatments/{id}/outcomes" "acp" audit(Create, "outcome", Id::Created, Some((Treatment, ID)));
    outcomes::list_outcomes => "GET" "/v1/treatments/{id}/outcomes" "acp" audit(List, "outcome", Id::None, Some((Treatment, ID)));
    outcomes::get_outcome => "GET" "/v1/treatments/{id}/outcomes/{outcome_id}" "acp" audit(Read, "outcome", Id::Path("outcome_id"), Some((Treatment, ID)));
    outcomes::protocol_outcomes => "GET" "/v1/protocols/{id}/outcomes" "ac" None;
    audit::list => "GET" "/v1/audit-events" "a" None;
    webhooks::create => "POST" "/v1/webhooks" "a" None;
    webhooks::list => "GET" "/v1/webhooks" "a" None;
    webhooks::get => "GET" "/v1/webhooks/{id}" "a" None;
    webhooks::update => "PATCH" "/v1/webhooks/{id}" "a" None;
    webhooks::deliveries => "GET" "/v1/webhooks/{id}/deliveries" "a" audit(List, "webhook_delivery", Id::None, None);
    webhooks::get_delivery => "GET" "/v1/webhooks/{id}/deliveries/{delivery_id}" "a" audit(Read, "webhook_delivery", Id::Path("delivery_id"), None);
    webhooks::redeliver => "POST" "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver" "a" audit(Update, "webhook_delivery", Id::Path("delivery_id"), None);
    fhir_clients::create => "POST" "/v1/fhir-clients" "a" None;
    fhir_clients::list => "GET" "/v1/fhir-clients" "a" None;
    fhir_clients::delete => "DELETE" "/v1/fhir-clients/{id}" "a" None;
    smart_apps::create => "POST" "/v1/smart-apps" "a" None;
    smart_apps::list => "GET" "/v1/smart-apps" "ac" None;
    smart_apps::delete => "DELETE" "/v1/smart-apps/{id}" "a" None;
    smart_apps::tokens => "GET" "/v1/smart-apps/{id}/tokens" "a" None;
    smart_apps::revoke => "POST" "/v1/smart-apps/{id}/revoke" "a" None;
    smart_apps::withdraw => "DELETE" "/v1/smart-apps/{id}/authorization" "acp" None;
    smart_apps::launch => "POST" "/v1/smart-apps/{id}/launches" "ac" audit(Create, "smart_launch", ID, None);
    smart_authorize::decide => "POST" "/v1/smart/authorize" "acp" None;
    smart_apps::authorizations => "GET" "/v1/smart/authorizations" "acp" None;
    smart_authorize::smart_configuration => "GET" "/.well-known/smart-configuration" "public" None;
    smart_authorize::authorize => "GET" "/fhir/R4/auth/authorize" "public" None;
    fhir::metadata => "GET" "/fhir/R4/metadata" "public" None;
    fhir_auth::smart_configuration => "GET" "/fhir/R4/.well-known/smart-configuration" "public" None;
    fhir_auth::token => "POST" "/fhir/R4/auth/token" "public" None;
    fhir_export::export_patients => "GET" "/fhir/R4/Patient/$export" "a" audit(Export, "fhir_export", Id::None, None);
    fhir_export::export_group => "GET" "/fhir/R4/Group/{id}/$export" "a" audit(Export, "fhir_export", Id::None, None);
    fhir_export::status => "GET" "/fhir/R4/$export-status/{id}" "a" None;
    fhir_export::cancel => "DELETE" "/fhir/R4/$export-status/{id}" "a" None;
    fhir_export::file => "GET" "/fhir/R4/$export-file/{id}/{file}" "a" audit(Read, "fhir_export_file", Id::Path("file"), None);
    fhir_terminology::lookup => "GET" "/fhir/R4/CodeSystem/$lookup" "ac" None;
    fhir_terminology::validate_code => "GET" "/fhir/R4/CodeSystem/$validate-code" "ac" None;
    fhir_terminology::code_system => "GET" "/fhir/R4/CodeSystem/{id}" "ac" None;
    fhir_terminology::code_systems => "GET" "/fhir/R4/CodeSystem" "ac" None;
    fhir_terminology::value_set => "GET" "/fhir/R4/ValueSet/{id}" "ac" None;
    fhir_terminology::value_sets => "GET" "/fhir/R4/ValueSet" "ac" None;
    fhir_binary::read_binary => "GET" "/fhir/R4/Binary/{id}" "ac" audit(Read, "photo", ID, None);
    fhir::read => "GET" "/fhir/R4/{type}/{id}" "ac" audit(Read, "fhir_resource", ID, None);
    fhir::search => "GET" "/fhir/R4/{type}" "ac" audit(List, "fhir_resource", Id::None, None);
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
    components(schemas(Problem, FieldError, WebhookPayload, AlertData, CheckInData, AdverseEventData, PatientData, CheckInDueData, PhotoData, fhir::OperationOutcome)),
    tags(
        (name = "auth", description = "Signing in, tokens and who you are"),
        (name = "clinic", description = "Your clinic's settings: its contact phone and reminder hour"),
        (name = "staff", description = "Clinicians and admins (admins only)"),
        (name = "symptoms", description = "The symptom catalogue"),
        (name = "protocols", description = "Treatment protocols"),
        (name = "patients", description = "Patients and their enrollment codes"),
        (name = "treatments", description = "Treatment sessions and check-in schedules"),
        (name = "check-ins", description = "Patients' daily check-ins"),
        (name = "photos", description = "Photos with a check-in: sent by the patient with their consent \
            (clinical use; before-and-after use optional and withdrawable), re-encoded without metadata, read \
            through the API only by the clinic's staff and the patient, every read audited"),
        (name = "alerts", description = "The alert queue: what the rules raised, urgent first"),
        (name = "worklist", description = "What the clinic has to do next: a card per treatment with its open alerts and unread notes, and who is due today"),
        (name = "outcomes", description = "Complications and outcomes weeks later"),
        (name = "recovery", description = "Recovery against the protocol's cohort: curves, time to resolution, comparisons"),
        (name = "audit", description = "The audit trail: who read or changed which patient's data"),
        (name = "webhooks", description = "Webhooks (admins only): your systems hear of the clinic's events as \
            they happen. Register an endpoint with the event types it wants: `alert.raised` (a rule raised a \
            new alert), `alert.resolved`, `check_in.created`, `adverse_event.recorded`, `patient.erased` (the \
            patient's data was erased on their request: erase what you hold of them too), `check_in.due` (a \
            scheduled check-in day reached the clinic's reminder hour without a check-in, once per day: \
            remind the patient by SMS or email), `photo.received` (a patient sent a photo with a check-in). Each event is POSTed to it as JSON, a `WebhookPayload` whose \
            `data` is an `AlertData`, `CheckInData`, `AdverseEventData`, `PatientData`, `CheckInDueData` or `PhotoData`: \
            ids and codes, never notes; ask the API for more.\n\n\
            Every delivery carries these headers:\n\
            - `Aftercare-Event-Id`: the event's id, the same in every retry and redelivery. Delivery is at \
            least once, so deduplicate on it.\n\
            - `Aftercare-Delivery-Id`: this event to this endpoint, as listed in its deliveries.\n\
            - `Aftercare-Event-Type`: the payload's `type`.\n\
            - `Aftercare-Timestamp`: when this attempt was sent, in Unix seconds.\n\
            - `Aftercare-Signature`: `v1=` and the hex HMAC-SHA256, keyed with the endpoint's secret (its \
            UTF-8 bytes), of the timestamp, a `.`, and the body exactly as received. Compute it over the raw \
            bytes, compare in constant time, and refuse a timestamp more than 5 minutes from your clock.\n\n\
            A 2xx answer within 10 seconds (by default) delivers an event. Anything else (another status, a \
            redirect, a timeout, a refused connection) is retried with exponential backoff (30 s by default, \
            doubling, at most an hour apart) for 24 hours; then the delivery fails. Events may arrive out of \
            order. Every attempt is listed in the endpoint's deliveries, and any delivery can be redelivered."),
        (name = "push", description = "Web Push reminders to the patient's app: the server's VAPID key, and \
            the app's subscriptions. Each message is encrypted for the browser (RFC 8291, `aes128gcm`) and \
            signed for the push service (VAPID, RFC 8292)."),
        (name = "fhir", description = "The clinic's data as FHIR R4 (`application/fhir+json`), for admins and \
            clinicians: the CapabilityStatement, reads and searches of Patient, Procedure, Questionnaire, \
            QuestionnaireResponse, Observation, AdverseEvent, Group and Media (a photo, whose bytes are a Binary read \
            by URL). Failures are FHIR `OperationOutcome`s \
            with the status the REST API gives the same failure. Reads are audited as the REST API's are."),
        (name = "smart", description = "SMART App Launch (STU 2): the clinic's registered apps, the \
            authorization endpoint (authorization code with PKCE S256, scopes v2 with the v1 `.read` \
            forms as aliases), the consent page's decision, EHR launches from the dashboard, and the \
            audit and revocation of the tokens apps were given. Discovery: \
            `/.well-known/smart-configuration`."),
        (name = "health", description = "Liveness, readiness and metrics"),
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
    contract::finish(&mut doc);
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
                "The database is not answering, or the request ran past its time limit; retry after Retry-After seconds",
                Some(("Retry-After", "Seconds to wait")),
            ),
        ];
        let fhir_statuses = ["400", "401", "403", "404", "500", "503"];
        let outcomes = problems
            .iter()
            .filter(|p| fhir_statuses.contains(&p.0))
            .map(|p| (*p, true));
        for ((status, description, header), fhir) in
            problems.iter().map(|p| (*p, false)).chain(outcomes)
        {
            let (media, schema) = if fhir {
                (crate::fhir::JSON, "OperationOutcome")
            } else {
                ("application/problem+json", "Problem")
            };
            let mut response = ResponseBuilder::new().description(description).content(
                media,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
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
                .insert(problem_name(status, fhir), RefOr::T(response.build()));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let has_params = path.contains('{');
            let fhir = path.starts_with(crate::fhir::BASE);
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
                add_problems(op, has_params, fhir);
            }
        }
    }
}

/// utoipa names an operation after its handler, and handlers of different resources share names
/// (`get`, `list`, `create`), but an operationId must be unique: links and client generators find
/// operations by it. The tag (the resource) makes it so: `patients_get`, `check_ins_create_batch`.
fn name_operation(op: &mut DocOperation) {
    let tag = op.tags.as_ref().and_then(|tags| tags.first());
    if let (Some(tag), Some(id)) = (tag, &op.operation_id) {
        op.operation_id = Some(format!("{}_{id}", tag.replace('-', "_")));
    }
}

/// The name of a documented failure: a problem, or (under `/fhir`) an OperationOutcome.
fn problem_name(status: &str, fhir: bool) -> String {
    let kind = if fhir { "OperationOutcome" } else { "Problem" };
    format!("{kind}{status}")
}

fn add_problems(op: &mut DocOperation, has_params: bool, fhir: bool) {
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
    // FHIR's operations take no JSON body: no 413, 415 or 422 of a problem.
    let fhir_statuses = ["400", "401", "403", "404", "500", "503"];
    for (status, applies) in statuses {
        let applies = applies && (!fhir || fhir_statuses.contains(&status));
        if applies && !op.responses.responses.contains_key(status) {
            let reference: RefOr<Response> =
                RefOr::Ref(Ref::from_response_name(problem_name(status, fhir)));
            op.responses.responses.insert(status.to_string(), reference);
        }
    }
}

/// The paths the service answers and their methods, to tell an unknown path (404) from a known
/// path asked with the wrong method (405 with `Allow`). Paths without parameters come first: as in
/// OpenAPI, `/v1/check-ins/batch` is matched before `/v1/check-ins/{id}`.
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    pub fn new(doc: &Document, docs: bool) -> RouteTable {
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
        if docs {
            for path in ["/openapi.json", "/docs", "/docs/{tail:.*}"] {
                routes.push((ResourceDef::new(path), vec![Method::GET]));
            }
        }
        for path in crate::web::dashboard::PATHS
            .into_iter()
            .chain(crate::web::app::PATHS)
        {
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
