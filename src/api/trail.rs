//! The audit trail's middleware: every read and change of patient data, recorded as the request
//! finishes (who, what, which patient, the request id and the outcome; never the health data).
//! `workers::audit_sealing` then seals the records into a hash chain per clinic.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use uuid::Uuid;

use super::extract::{Audited, audit_draft};
use crate::db::audit::Event;
use crate::db::{self, Pool, Tenant};
use crate::domain::audit::Id;
use crate::error::ApiError;
use crate::services;

/// The patients a response showed or touched, where its route can't name them (a list, the
/// dashboard, a batch): the trail gets one record per patient, so that a patient's reads are all
/// found under their id.
#[derive(Debug, Clone, Default)]
struct Shown(Vec<Uuid>);

/// Notes that the response to `req` shows or touches these patients.
pub fn shown(req: &HttpRequest, patients: impl IntoIterator<Item = Uuid>) {
    let mut extensions = req.extensions_mut();
    let shown = &mut extensions.get_or_insert_with(Shown::default).0;
    shown.extend(patients);
    shown.sort_unstable();
    shown.dedup();
}

/// Records the request if its route is in the trail, its caller is known and its handler did not
/// record it in its own transaction (`Audited`). The response waits
/// for the record: a request whose record can't be written is answered with that error instead,
/// so no patient data leaves without its record.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let Some((tenant, events)) = events_of(&res) else {
        return Ok(res.map_into_boxed_body());
    };
    let Some(pool) = res.request().app_data::<web::Data<Pool>>().cloned() else {
        return Ok(res.map_into_boxed_body());
    };
    match db::run(&pool, move |conn| {
        services::audit::record(conn, tenant, &events).map_err(ApiError::from)
    })
    .await
    {
        Ok(()) => Ok(res.map_into_boxed_body()),
        Err(e) => {
            let (req, _) = res.into_parts();
            Ok(ServiceResponse::from_err(e, req))
        }
    }
}

/// The request's record, or one per patient it showed when the handler named them.
fn events_of(res: &ServiceResponse<impl MessageBody>) -> Option<(Tenant, Vec<Event>)> {
    let (tenant, event) = event_of(res)?;
    let shown = res.request().extensions().get::<Shown>().cloned();
    let events = match shown {
        Some(Shown(patients)) if !patients.is_empty() => patients
            .into_iter()
            .map(|patient| Event {
                id: Uuid::new_v4(),
                lookup: Some((crate::db::audit::Lookup::Patient, patient)),
                ..event.clone()
            })
            .collect(),
        _ => vec![event],
    };
    Some((tenant, events))
}

fn event_of(res: &ServiceResponse<impl MessageBody>) -> Option<(Tenant, Event)> {
    let req = res.request();
    if req.extensions().get::<Audited>().is_some() {
        return None;
    }
    let (tenant, route, mut event) = audit_draft(req)?;
    let created = || -> Option<Uuid> {
        let location = res.headers().get(header::LOCATION)?.to_str().ok()?;
        location.rsplit('/').next()?.parse().ok()
    };
    if let Id::Created = route.resource_id {
        event.resource_id = created();
    }
    if let Some((table, Id::Created)) = route.patient_of {
        event.lookup = created().map(|id| (table, id));
    }
    let status = res.status().as_u16();
    // A create answered 200 replaced what was there: recorded as an update.
    event.action = route.action.as_done(status).as_str().to_string();
    Some((tenant, event.answered(status)))
}

#[cfg(test)]
mod tests {
    /// Every operation on patient data must say how it is audited, so a new endpoint can't forget.
    #[test]
    fn every_route_with_patient_data_is_audited() {
        let sensitive = [
            "/v1/patients",
            "/v1/treatments",
            "/v1/check-ins",
            "/v1/alerts",
            "/v1/dashboard",
            // Deliveries carry patients' ids, alert rules and complication grades.
            "/v1/webhooks/{id}/deliveries",
            "/fhir/R4/{type}",
        ];
        for op in crate::api::OPERATIONS {
            if sensitive.iter().any(|p| op.path.starts_with(p)) {
                assert!(
                    op.audit.is_some(),
                    "{} {} is not in the audit trail",
                    op.method,
                    op.path
                );
            }
        }
    }
}
