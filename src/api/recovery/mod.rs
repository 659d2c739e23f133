//! The recovery views' endpoints: a protocol's cohort curves and time to resolution, protocols side
//! by side, a patient's recovery against their cohort, and the clinic at a glance (assembled in
//! `read_model::views`, served as the response types of `responses`).

mod responses;

use std::collections::HashSet;

use actix_web::{HttpRequest, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use uuid::Uuid;

use crate::db::{self, Pool};
use crate::domain::codes::Area;
use crate::error::ApiError;
use crate::read_model::views::{self, Comparison, Dashboard, PatientRecovery, ProtocolRecovery};
use crate::read_model::{Filter, Store};
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecoveryFilter {
    /// Treatments on or after this date (clinic time).
    pub from: Option<NaiveDate>,
    /// Treatments on or before this date (clinic time).
    pub to: Option<NaiveDate>,
    /// Patients of this Fitzpatrick skin type (1-6).
    #[param(minimum = 1, maximum = 6)]
    pub fitzpatrick_type: Option<i16>,
    /// Treatments that included this area.
    pub area: Option<Area>,
    /// Treatments that were this session of their series (1 for the first).
    pub session_number: Option<i32>,
}

impl RecoveryFilter {
    fn into_filter(self) -> Result<Filter, ApiError> {
        let mut errors = vec![];
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            errors.push(crate::error::FieldError::new(
                "from",
                "must not be after `to`",
            ));
        }
        super::extract::check_dates(&mut errors, [("from", self.from), ("to", self.to)]);
        if self.fitzpatrick_type.is_some_and(|f| !(1..=6).contains(&f)) {
            errors.push(crate::error::FieldError::new(
                "fitzpatrick_type",
                "must be from 1 to 6",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(
                "the query parameters are not valid".into(),
                errors,
            ));
        }
        Ok(Filter {
            from: self.from,
            to: self.to,
            fitzpatrick_type: self.fitzpatrick_type,
            area: self.area,
            session_number: self.session_number,
        })
    }
}

/// A protocol's recovery: per symptom, the daily score distribution of its cohort and the time to
/// resolution (Kaplan-Meier with a 95% band). Filters narrow the cohort.
#[utoipa::path(
    tag = "recovery",
    params(("id" = Uuid, Path), RecoveryFilter),
    security(("bearer" = [])),
    responses((status = 200, description = "The protocol's recovery", body = ProtocolRecovery))
)]
#[get("/v1/protocols/{id}/recovery")]
pub async fn protocol_recovery(
    pool: web::Data<Pool>,
    store: web::Data<Store>,
    caller: Caller,
    id: web::Path<Uuid>,
    filter: web::Query<RecoveryFilter>,
) -> Result<web::Json<ProtocolRecovery>, ApiError> {
    let id = id.into_inner();
    let filter = filter.into_inner().into_filter()?;
    let store = store.into_inner();
    let view = db::run(&pool, move |conn| {
        views::protocol_recovery(conn, &store, caller.tenant, id, &filter)
    })
    .await?;
    Ok(web::Json(view))
}

/// The compared protocols: `ids` repeated (`ids=a&ids=b`, what code generators send for an array),
/// comma-separated (`ids=a,b`), or both at once.
#[derive(Debug, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct CompareParams {
    pub ids: Vec<String>,
}

impl From<Vec<(String, String)>> for CompareParams {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let ids = pairs.into_iter().filter(|(k, _)| k == "ids");
        CompareParams {
            ids: ids.map(|(_, v)| v).collect(),
        }
    }
}

/// Written by hand: the derive can't say "an array of distinct uuids" of a parameter that isn't a
/// field.
impl IntoParams for CompareParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let ids = ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            )
            .min_items(Some(2))
            .max_items(Some(5))
            .unique_items(true);
        vec![
            ParameterBuilder::new()
                .name("ids")
                .parameter_in(ParameterIn::Query)
                .required(Required::True)
                .description(Some(
                    "2 to 5 different protocol ids, repeated (`ids=a&ids=b`) or comma-separated \
                     (`ids=a,b`); the two forms may be mixed.",
                ))
                .style(Some(ParameterStyle::Form))
                .explode(Some(true))
                .schema(Some(ids))
                .build(),
        ]
    }
}

fn parse_ids(ids: &[String]) -> Result<Vec<Uuid>, ApiError> {
    let bad = |m: &str| {
        ApiError::BadRequest(
            "the query parameters are not valid".into(),
            vec![crate::error::FieldError::new("ids", m)],
        )
    };
    if ids.is_empty() {
        return Err(bad("is required"));
    }
    let parsed: Vec<Uuid> = ids
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("must be protocol ids, repeated or separated by commas"))?;
    let distinct: HashSet<&Uuid> = parsed.iter().collect();
    if !(2..=5).contains(&parsed.len()) || distinct.len() != parsed.len() {
        return Err(bad("must name 2 to 5 different protocols"));
    }
    Ok(parsed)
}

/// Protocols side by side, per symptom: incidence, median resolution day with its 95% interval,
/// the share at moderate or worse on days 1, 3 and 7, and (of two protocols) the log-rank test of
/// their times to resolution. Filters narrow both cohorts alike.
#[utoipa::path(
    tag = "recovery",
    params(CompareParams, RecoveryFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The comparison", body = Comparison),
        (status = 404, description = "A protocol is not of your clinic", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/protocols/compare")]
pub async fn compare(
    pool: web::Data<Pool>,
    store: web::Data<Store>,
    caller: Caller,
    params: web::Query<CompareParams>,
    filter: web::Query<RecoveryFilter>,
) -> Result<web::Json<Comparison>, ApiError> {
    let ids = parse_ids(&params.ids)?;
    let filter = filter.into_inner().into_filter()?;
    let store = store.into_inner();
    let view = db::run(&pool, move |conn| {
        views::compare(conn, &store, caller.tenant, &ids, &filter)
    })
    .await?;
    Ok(web::Json(view))
}

/// A patient's recovery: per treatment and symptom, the daily scores against the protocol's cohort.
#[utoipa::path(
    tag = "recovery",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The patient's recovery", body = PatientRecovery))
)]
#[get("/v1/patients/{id}/recovery")]
pub async fn patient_recovery(
    pool: web::Data<Pool>,
    store: web::Data<Store>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<PatientRecovery>, ApiError> {
    let patient_id = id.into_inner();
    caller.may_see_patient(patient_id)?;
    let store = store.into_inner();
    let view = db::run(&pool, move |conn| {
        views::patient_recovery(conn, &store, caller.tenant, patient_id)
    })
    .await?;
    Ok(web::Json(view))
}

/// The clinic at a glance.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    responses((status = 200, description = "The clinic today", body = Dashboard))
)]
#[get("/v1/dashboard")]
pub async fn dashboard(
    pool: web::Data<Pool>,
    store: web::Data<Store>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<Dashboard>, ApiError> {
    let store = store.into_inner();
    let view = db::run(&pool, move |conn| {
        views::dashboard(conn, &store, caller.tenant)
    })
    .await?;
    crate::api::trail::shown(&req, view.slower_than_usual.iter().map(|s| s.patient_id));
    Ok(web::Json(view))
}
