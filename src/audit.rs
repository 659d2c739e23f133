//! The audit trail's middleware: every read and change of patient data, recorded as the request
//! finishes (who, what, which patient, the request id and the outcome; never the health data).
//! `workers::audit_sealing` then seals the records into a hash chain per clinic.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use chrono::Utc;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::audit::Event;
use crate::db::{self, Pool, Tenant};
use crate::domain::audit::Id;
use crate::http::RequestId;

/// Records the request if its route is in the trail and its caller is known. The response waits
/// for the record: a request whose record can't be written is answered with that error instead,
/// so no patient data leaves without its record.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let Some((tenant, event)) = event_of(&res) else {
        return Ok(res.map_into_boxed_body());
    };
    let Some(pool) = res.request().app_data::<web::Data<Pool>>().cloned() else {
        return Ok(res.map_into_boxed_body());
    };
    match db::run(&pool, move |conn| {
        Ok(db::audit::insert(conn, tenant, &event)?)
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

fn event_of(res: &ServiceResponse<impl MessageBody>) -> Option<(Tenant, Event)> {
    let req = res.request();
    let caller = req.extensions().get::<Caller>().copied()?;
    let pattern = req.match_pattern()?;
    let route = crate::api::OPERATIONS
        .iter()
        .find(|o| o.method == req.method().as_str() && o.path == pattern)?
        .audit?;
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
    let event = Event {
        id: Uuid::new_v4(),
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
    };
    Some((caller.tenant, event))
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
