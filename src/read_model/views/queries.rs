//! The views' queries: each loads what its view needs (the protocols, the clinic's symptoms, the
//! complications, today's check-ins), refreshes the store and assembles the answer.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use super::assembly::{
    last_day, patient_symptom, protocol_view, recent, resolution, schedule, share,
};
use super::*;
use crate::db::{self, Tenant};
use crate::domain::ids::{PatientId, ProtocolId};
use crate::domain::logrank::log_rank;
use crate::domain::recovery::median_with_interval;
use crate::domain::schedule::local_date;
use crate::read_model::{Cohort, Filter, Of, Store, TreatmentSeries};

/// The clinic's symptom codes, defaults first.
pub(crate) fn catalogue(conn: &mut PgConnection, tenant: Tenant) -> Result<Vec<String>, db::Error> {
    Ok(db::symptoms::catalogue(conn, tenant)?
        .into_iter()
        .map(|s| s.code)
        .collect())
}

/// A protocol's recovery over its treatments that pass `filter`.
pub fn protocol_recovery(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    id: Uuid,
    filter: &Filter,
) -> Result<ProtocolRecovery, db::Error> {
    let protocol = db::protocols::get(conn, tenant, ProtocolId::from(id))?;
    let codes = catalogue(conn, tenant)?;
    store.refresh(conn)?;
    let last = last_day(&protocol);
    let cohort = store.cohort(id, &codes, last, filter);
    let adherence = store.adherence(id, &schedule(&protocol), filter);
    let mut events = db::adverse_events::of_protocol(conn, tenant, ProtocolId::from(id))?;
    if *filter != Filter::default() {
        events.retain(|(treatment, _, _)| store.matches(id, *treatment, filter));
    }
    let events: Vec<(String, i16)> = events
        .into_iter()
        .map(|(_, term, grade)| (term, grade))
        .collect();
    Ok(protocol_view(id, &cohort, adherence, last, &events))
}

/// Protocols side by side, in the order of `ids`.
pub fn compare(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    ids: &[Uuid],
    filter: &Filter,
) -> Result<Comparison, db::Error> {
    let wanted: Vec<ProtocolId> = ids.iter().copied().map(ProtocolId::from).collect();
    let found = db::protocols::by_ids(conn, tenant, &wanted)?;
    let protocols: Vec<_> = ids
        .iter()
        .map(|id| {
            found
                .iter()
                .find(|p| p.id == ProtocolId::from(*id))
                .ok_or(db::Error::NotFound)
        })
        .collect::<Result<_, _>>()?;
    let codes = catalogue(conn, tenant)?;
    store.refresh(conn)?;
    let cohorts: Vec<_> = protocols
        .iter()
        .map(|p| {
            let last = last_day(p).max(7);
            (store.cohort(p.id.uuid(), &codes, last, filter), last)
        })
        .collect();
    let symptoms = codes
        .iter()
        .enumerate()
        .map(|(i, code)| ComparedSymptom {
            code: code.clone(),
            log_rank: match cohorts.as_slice() {
                [(a, _), (b, _)] => {
                    log_rank(&a.symptoms[i].events, &b.symptoms[i].events).map(|t| LogRankTest {
                        chi_square: t.chi_square,
                        p_value: t.p_value,
                    })
                }
                _ => None,
            },
            protocols: protocols
                .iter()
                .zip(&cohorts)
                .map(|(p, (cohort, last))| {
                    let s = &cohort.symptoms[i];
                    let (_, curve) = resolution(s, *last);
                    let (median_day, median_ci_low, median_ci_high) = median_with_interval(&curve);
                    let moderate = |day: usize| s.days.get(day).and_then(|h| h.share_at_least(2));
                    SymptomComparison {
                        protocol_id: p.id.uuid(),
                        incidence: share(s.affected, cohort.treatments),
                        median_day,
                        median_ci_low,
                        median_ci_high,
                        moderate_or_worse_day_1: moderate(1),
                        moderate_or_worse_day_3: moderate(3),
                        moderate_or_worse_day_7: moderate(7),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Comparison {
        protocols: protocols
            .iter()
            .zip(&cohorts)
            .map(|(p, (c, _))| ComparedProtocol {
                protocol_id: p.id.uuid(),
                name: p.name.clone(),
                treatments: c.treatments,
            })
            .collect(),
        symptoms,
    })
}

/// A patient's recovery against their protocols' cohorts.
pub fn patient_recovery(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    patient_id: Uuid,
) -> Result<PatientRecovery, db::Error> {
    db::patients::get(conn, tenant, PatientId::from(patient_id))?;
    let today = local_date(Utc::now(), db::clinics::get(conn, tenant)?.tz()?);
    let codes = catalogue(conn, tenant)?;
    let protocols = db::protocols::all(conn, tenant)?;
    store.refresh(conn)?;
    // The cohorts first: `with_treatments` holds the store's lock while it runs.
    let cohorts: HashMap<Uuid, (u16, Cohort)> = protocols
        .iter()
        .map(|p| {
            let last = last_day(p);
            (
                p.id.uuid(),
                (
                    last,
                    store.cohort(p.id.uuid(), &codes, last, &Filter::default()),
                ),
            )
        })
        .collect();
    let mut treatments = store.with_treatments(Of::Patient(patient_id), &codes, |treatments| {
        treatments
            .into_iter()
            .map(
                |TreatmentSeries {
                     treatment: t,
                     series,
                 }| {
                    let of_protocol = cohorts.get(&t.protocol_id);
                    let last = of_protocol.map_or(0, |(last, _)| *last);
                    let day = (today - t.performed_on).num_days();
                    let in_follow_up = (0..=i64::from(last)).contains(&day);
                    PatientTreatmentRecovery {
                        treatment_id: t.id,
                        protocol_id: t.protocol_id,
                        performed_at: t.performed_at,
                        in_follow_up,
                        symptoms: codes
                            .iter()
                            .enumerate()
                            .filter_map(|(i, code)| {
                                let cohort = of_protocol.map(|(_, c)| &c.symptoms[i]);
                                patient_symptom(code, series[i], cohort, last, in_follow_up)
                            })
                            .collect(),
                    }
                },
            )
            .collect::<Vec<_>>()
    });
    treatments.sort_by(|a, b| {
        b.performed_at
            .cmp(&a.performed_at)
            .then(b.treatment_id.cmp(&a.treatment_id))
    });
    Ok(PatientRecovery {
        patient_id,
        treatments,
    })
}

/// The clinic today.
pub fn dashboard(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
) -> Result<Dashboard, db::Error> {
    let clinic = db::clinics::get(conn, tenant)?;
    let tz = clinic.tz()?;
    let today = local_date(Utc::now(), tz);
    let midnight = |date: NaiveDate| {
        date.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    let tomorrow = today.checked_add_days(Days::new(1));
    let check_ins_today = match (midnight(today), tomorrow.and_then(midnight)) {
        (Some(from), Some(to)) => db::check_ins::count_recorded_between(conn, tenant, from, to)?,
        _ => 0,
    };
    let codes = catalogue(conn, tenant)?;
    let protocols = db::protocols::all(conn, tenant)?;
    store.refresh(conn)?;
    let (mut active, mut done, mut due, mut slow) = (0, 0, 0, vec![]);
    let (mut due_today, mut due_today_checked_in) = (0, 0);
    for p in &protocols {
        recent(store, p, &codes, today, |items| {
            for ((d, n), now) in items {
                (done, due) = (done + d, due + n);
                let Some(now) = now else { continue };
                active += 1;
                if now.due_today {
                    due_today += 1;
                    due_today_checked_in += u32::from(now.checked_in_today);
                }
                if !now.slower.is_empty() {
                    slow.push(SlowRecovery {
                        patient_id: now.patient_id,
                        treatment_id: now.treatment_id,
                        protocol_id: now.protocol_id,
                        day: now.day,
                        symptoms: now.slower.clone(),
                    });
                }
            }
        });
    }
    // Longest in follow-up first.
    slow.sort_by_key(|s| (Reverse(s.day), s.treatment_id));
    Ok(Dashboard {
        active_treatments: active,
        check_ins_today,
        due_today,
        due_today_checked_in,
        adherence_7d: share(done, due),
        slower_than_usual: slow,
    })
}
