//! The audit trail's middleware: every read and change of patient data, recorded as the request
//! finishes (who, what, which patient, the request id and the outcome; never the health data).
//! `workers::audit_sealing` then seals the records into a hash chain per clinic.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use chrono::Utc;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::audit::{Event, Lookup};
use crate::db::{self, Pool};
use crate::domain::audit::Action;
use crate::http::RequestId;

/// Where an audited request's resource id comes from.
#[derive(Debug, Clone, Copy)]
enum Id {
    /// A path parameter.
    Path(&'static str),
    /// The `Location` of what the request created.
    Created,
    None,
}

/// A route that reads or changes patient data, and how to tell which patient.
struct Route {
    method: Method,
    pattern: &'static str,
    action: Action,
    resource_type: &'static str,
    resource_id: Id,
    /// The patient is found by looking this id up in this table (or is the caller, for a patient).
    patient_of: Option<(Lookup, Id)>,
}

const fn route(
    method: Method,
    pattern: &'static str,
    action: Action,
    resource_type: &'static str,
    resource_id: Id,
    patient_of: Option<(Lookup, Id)>,
) -> Route {
    Route {
        method,
        pattern,
        action,
        resource_type,
        resource_id,
        patient_of,
    }
}

const ID: Id = Id::Path("id");

/// Every route that touches patient data. A test checks that no such route is missing.
#[rustfmt::skip]
static TRAIL: [Route; 27] = {
    use Lookup::*;
    [
        route(Method::GET, "/v1/patients", Action::List, "patient", Id::None, None),
        route(Method::POST, "/v1/patients", Action::Create, "patient", Id::Created, Some((Patient, Id::Created))),
        route(Method::GET, "/v1/patients/{id}", Action::Read, "patient", ID, Some((Patient, ID))),
        route(Method::PATCH, "/v1/patients/{id}", Action::Update, "patient", ID, Some((Patient, ID))),
        route(Method::POST, "/v1/patients/{id}/enrollment-codes", Action::Create, "enrollment_code", Id::Created, Some((Patient, ID))),
        route(Method::GET, "/v1/patients/{id}/enrollment-codes/{code_id}", Action::Read, "enrollment_code", Id::Path("code_id"), Some((Patient, ID))),
        route(Method::POST, "/v1/patients/{id}/treatments", Action::Create, "treatment", Id::Created, Some((Patient, ID))),
        route(Method::GET, "/v1/patients/{id}/treatments", Action::List, "treatment", Id::None, Some((Patient, ID))),
        route(Method::GET, "/v1/patients/{id}/check-ins", Action::List, "check_in", Id::None, Some((Patient, ID))),
        route(Method::GET, "/v1/patients/{id}/recovery", Action::Read, "recovery", ID, Some((Patient, ID))),
        route(Method::GET, "/v1/treatments/{id}", Action::Read, "treatment", ID, Some((Treatment, ID))),
        route(Method::GET, "/v1/treatments/{id}/schedule", Action::Read, "schedule", ID, Some((Treatment, ID))),
        route(Method::POST, "/v1/treatments/{id}/adverse-events", Action::Create, "adverse_event", Id::Created, Some((Treatment, ID))),
        route(Method::GET, "/v1/treatments/{id}/adverse-events", Action::List, "adverse_event", Id::None, Some((Treatment, ID))),
        route(Method::GET, "/v1/treatments/{id}/adverse-events/{event_id}", Action::Read, "adverse_event", Id::Path("event_id"), Some((Treatment, ID))),
        route(Method::PATCH, "/v1/treatments/{id}/adverse-events/{event_id}", Action::Update, "adverse_event", Id::Path("event_id"), Some((Treatment, ID))),
        route(Method::POST, "/v1/treatments/{id}/outcomes", Action::Create, "outcome", Id::Created, Some((Treatment, ID))),
        route(Method::GET, "/v1/treatments/{id}/outcomes", Action::List, "outcome", Id::None, Some((Treatment, ID))),
        route(Method::GET, "/v1/treatments/{id}/outcomes/{outcome_id}", Action::Read, "outcome", Id::Path("outcome_id"), Some((Treatment, ID))),
        route(Method::POST, "/v1/check-ins", Action::Create, "check_in", Id::Created, Some((CheckIn, Id::Created))),
        route(Method::POST, "/v1/check-ins/batch", Action::Create, "check_in", Id::None, None),
        route(Method::GET, "/v1/check-ins/{id}", Action::Read, "check_in", ID, Some((CheckIn, ID))),
        route(Method::GET, "/v1/alerts", Action::List, "alert", Id::None, None),
        route(Method::GET, "/v1/alerts/{id}", Action::Read, "alert", ID, Some((Alert, ID))),
        route(Method::POST, "/v1/alerts/{id}/acknowledge", Action::Acknowledge, "alert", ID, Some((Alert, ID))),
        route(Method::POST, "/v1/alerts/{id}/resolve", Action::Resolve, "alert", ID, Some((Alert, ID))),
        route(Method::GET, "/v1/dashboard", Action::Read, "dashboard", Id::None, None),
    ]
};

/// Records the request if its route is in the trail and its caller is known. The response waits
/// for the record: a request whose record can't be written is answered with that error instead,
/// so no patient data leaves without its record.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let Some(event) = event_of(&res) else {
        return Ok(res.map_into_boxed_body());
    };
    let Some(pool) = res.request().app_data::<web::Data<Pool>>().cloned() else {
        return Ok(res.map_into_boxed_body());
    };
    match db::run(&pool, move |conn| Ok(db::audit::insert(conn, &event)?)).await {
        Ok(()) => Ok(res.map_into_boxed_body()),
        Err(e) => {
            let (req, _) = res.into_parts();
            Ok(ServiceResponse::from_err(e, req))
        }
    }
}

fn event_of(res: &ServiceResponse<impl MessageBody>) -> Option<Event> {
    let req = res.request();
    let caller = req.extensions().get::<Caller>().copied()?;
    let pattern = req.match_pattern()?;
    let route = TRAIL
        .iter()
        .find(|r| r.method == req.method() && r.pattern == pattern)?;
    let id = |id: Id| -> Option<Uuid> {
        match id {
            Id::Path(name) => req.match_info().get(name)?.parse().ok(),
            Id::Created => res
                .headers()
                .get(header::LOCATION)?
                .to_str()
                .ok()?
                .rsplit('/')
                .next()?
                .parse()
                .ok(),
            Id::None => None,
        }
    };
    let status = res.status().as_u16();
    Some(Event {
        id: Uuid::new_v4(),
        clinic_id: caller.tenant.id(),
        at: Utc::now(),
        actor_id: caller.id,
        actor_role: caller.role.as_str().to_string(),
        action: route.action.as_str().to_string(),
        resource_type: route.resource_type.to_string(),
        resource_id: id(route.resource_id),
        lookup: route
            .patient_of
            .and_then(|(table, i)| Some((table, id(i)?))),
        caller_patient: caller.patient().ok(),
        request_id: req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        status: status as i16,
        outcome: match status {
            200..=299 => "success",
            401 | 403 => "denied",
            404 => "not_found",
            400..=499 => "rejected",
            _ => "failed",
        }
        .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path under patient data must be in the trail, so a new endpoint can't forget it.
    #[test]
    fn every_route_with_patient_data_is_audited() {
        let doc = crate::api::openapi();
        let sensitive = [
            "/v1/patients",
            "/v1/treatments",
            "/v1/check-ins",
            "/v1/alerts",
            "/v1/dashboard",
        ];
        for (path, item) in &doc.paths.paths {
            if !sensitive.iter().any(|p| path.starts_with(p)) {
                continue;
            }
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PATCH, &item.patch),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
            ] {
                if op.is_some() {
                    assert!(
                        TRAIL
                            .iter()
                            .any(|r| r.method == method && r.pattern == path),
                        "{method} {path} is not in the audit trail"
                    );
                }
            }
        }
    }
}
