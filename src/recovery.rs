//! The recovery read model: every treatment's worst score per symptom and day, held in memory and
//! kept exact by reading, on each use, only the rows written since the snapshot it last read
//! (`db::recovery::changes`). Views over any filter are a scan of one protocol's treatments; the
//! unfiltered cohort of each protocol is memoized until its data changes.
//!
//! The store spans every clinic, like a materialized view: callers reach it only with a protocol
//! or patient they have already loaded through their own tenant.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

use crate::db::recovery::{Changes, TreatmentFacts, changes};
use crate::domain::codes::Area;
use crate::domain::recovery::{Course, Events, Histogram, adherence, course};
use crate::domain::schedule::local_date;

/// One treatment as the views see it.
#[derive(Debug, Clone)]
pub struct Treatment {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub protocol_id: Uuid,
    pub patient_id: Uuid,
    pub performed_at: chrono::DateTime<Utc>,
    /// The treatment's date in the clinic's time zone (day 0).
    pub performed_on: NaiveDate,
    pub tz: Tz,
    pub fitzpatrick_type: Option<i16>,
    pub session_number: i32,
    pub areas: Vec<Area>,
    /// The worst score of each symptom (by interned code) on each day since treatment.
    daily: Vec<Vec<Option<u8>>>,
    /// The days on which the patient checked in.
    days: BTreeSet<u16>,
}

impl Treatment {
    fn series(&self, code: Option<usize>) -> &[Option<u8>] {
        code.and_then(|c| self.daily.get(c))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn checked_in(&self, day: u16) -> bool {
        self.days.contains(&day)
    }

    pub fn today(&self) -> NaiveDate {
        local_date(Utc::now(), self.tz)
    }
}

/// Which treatments of a protocol a view covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Treatment dates, inclusive, in the clinic's time zone.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub fitzpatrick_type: Option<i16>,
    pub area: Option<Area>,
    pub session_number: Option<i32>,
}

impl Filter {
    pub fn matches(&self, t: &Treatment) -> bool {
        self.from.is_none_or(|d| t.performed_on >= d)
            && self.to.is_none_or(|d| t.performed_on <= d)
            && self
                .fitzpatrick_type
                .is_none_or(|f| t.fitzpatrick_type == Some(f))
            && self.area.is_none_or(|a| t.areas.contains(&a))
            && self.session_number.is_none_or(|n| t.session_number == n)
    }
}

/// One symptom across a cohort: the daily score distribution and the resolution events.
#[derive(Debug, Clone, Default)]
pub struct SymptomCohort {
    pub code: String,
    /// Day 0 to the last scheduled day.
    pub days: Vec<Histogram>,
    /// Treatments whose patient ever reported the symptom above 0.
    pub affected: u32,
    pub events: Events,
}

#[derive(Debug, Clone, Default)]
pub struct Cohort {
    pub treatments: u32,
    pub symptoms: Vec<SymptomCohort>,
}

impl Cohort {
    pub fn symptom(&self, code: &str) -> Option<&SymptomCohort> {
        self.symptoms.iter().find(|s| s.code == code)
    }
}

#[derive(Default)]
struct State {
    snapshot: Option<String>,
    treatments: HashMap<Uuid, Treatment>,
    by_protocol: HashMap<Uuid, Vec<Uuid>>,
    by_patient: HashMap<Uuid, Vec<Uuid>>,
    codes: HashMap<String, usize>,
    /// Bumped whenever a protocol's data changes, to retire its memoized cohort.
    versions: HashMap<Uuid, u64>,
}

type Memo = (u64, u16, Vec<String>, Arc<Cohort>);

#[derive(Default)]
pub struct Store {
    state: RwLock<State>,
    refreshing: Mutex<()>,
    cohorts: Mutex<HashMap<Uuid, Memo>>,
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Brings the copy up to date with what the database has committed.
    pub fn refresh(&self, conn: &mut PgConnection) -> QueryResult<()> {
        let _one_at_a_time = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        let since = self.read().snapshot.clone();
        let changes = changes(conn, since.as_deref())?;
        self.write().apply(changes);
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The cohort of a protocol's treatments that pass `filter`, for `codes`, days 0..=last_day.
    pub fn cohort(
        &self,
        protocol_id: Uuid,
        codes: &[String],
        last_day: u16,
        filter: &Filter,
    ) -> Cohort {
        let state = self.read();
        state.cohort(protocol_id, codes, last_day, |t| filter.matches(t))
    }

    /// The whole cohort of a protocol, memoized until the protocol's data changes.
    pub fn full_cohort(&self, protocol_id: Uuid, codes: &[String], last_day: u16) -> Arc<Cohort> {
        let state = self.read();
        let version = state.versions.get(&protocol_id).copied().unwrap_or(0);
        let mut memo = self.cohorts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, d, c, cohort)) = memo.get(&protocol_id)
            && *v == version
            && *d == last_day
            && c == codes
        {
            return cohort.clone();
        }
        let cohort = Arc::new(state.cohort(protocol_id, codes, last_day, |_| true));
        memo.insert(
            protocol_id,
            (version, last_day, codes.to_vec(), cohort.clone()),
        );
        cohort
    }

    /// Adherence of a protocol's filtered treatments: (done, due) scheduled days up to today.
    pub fn adherence(&self, protocol_id: Uuid, schedule: &[i32], filter: &Filter) -> (u64, u64) {
        let state = self.read();
        state
            .of_protocol(protocol_id)
            .filter(|t| filter.matches(t))
            .map(|t| {
                adherence(
                    t.performed_on,
                    schedule,
                    |d| t.checked_in(d),
                    t.today(),
                    None,
                )
            })
            .fold((0, 0), |(a, b), (d, n)| {
                (a + u64::from(d), b + u64::from(n))
            })
    }

    /// Calls `f` with the treatments of a patient or a protocol, each with its daily scores of `codes`.
    pub fn with_treatments<R>(
        &self,
        of: Of,
        codes: &[String],
        f: impl FnOnce(Vec<TreatmentSeries<'_>>) -> R,
    ) -> R {
        let state = self.read();
        let ids = match of {
            Of::Patient(id) => state.by_patient.get(&id),
            Of::Protocol(id) => state.by_protocol.get(&id),
        };
        let indices: Vec<Option<usize>> =
            codes.iter().map(|c| state.codes.get(c).copied()).collect();
        let treatments = ids
            .into_iter()
            .flatten()
            .filter_map(|id| state.treatments.get(id))
            .map(|t| TreatmentSeries {
                treatment: t,
                series: indices.iter().map(|&i| t.series(i)).collect(),
            })
            .collect();
        f(treatments)
    }
}

pub enum Of {
    Patient(Uuid),
    Protocol(Uuid),
}

/// A treatment with the daily scores of the requested symptoms, in their order.
pub struct TreatmentSeries<'a> {
    pub treatment: &'a Treatment,
    pub series: Vec<&'a [Option<u8>]>,
}

impl State {
    fn of_protocol(&self, protocol_id: Uuid) -> impl Iterator<Item = &Treatment> {
        self.by_protocol
            .get(&protocol_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.treatments.get(id))
    }

    fn cohort(
        &self,
        protocol_id: Uuid,
        codes: &[String],
        last_day: u16,
        keep: impl Fn(&Treatment) -> bool,
    ) -> Cohort {
        let indices: Vec<Option<usize>> =
            codes.iter().map(|c| self.codes.get(c).copied()).collect();
        let days = usize::from(last_day) + 1;
        let mut symptoms: Vec<SymptomCohort> = codes
            .iter()
            .map(|code| SymptomCohort {
                code: code.clone(),
                days: vec![Histogram::default(); days],
                ..Default::default()
            })
            .collect();
        let mut treatments = 0;
        for t in self.of_protocol(protocol_id).filter(|t| keep(t)) {
            treatments += 1;
            for (symptom, &idx) in symptoms.iter_mut().zip(&indices) {
                let series = t.series(idx);
                for (histogram, score) in symptom.days.iter_mut().zip(series) {
                    if let Some(score) = score {
                        histogram.add(*score);
                    }
                }
                let c = course(series);
                symptom.affected += u32::from(c != Course::Unaffected);
                symptom.events.add(c);
            }
        }
        Cohort {
            treatments,
            symptoms,
        }
    }

    fn apply(&mut self, changes: Changes) {
        for facts in changes.treatments {
            self.upsert_treatment(facts);
        }
        for row in changes.scores {
            let (Ok(day), Ok(score)) = (u16::try_from(row.day), u8::try_from(row.score)) else {
                continue;
            };
            let next = self.codes.len();
            let code = *self.codes.entry(row.symptom_code).or_insert(next);
            let Some(t) = self.treatments.get_mut(&row.treatment_id) else {
                continue;
            };
            if t.daily.len() <= code {
                t.daily.resize(code + 1, Vec::new());
            }
            let series = &mut t.daily[code];
            if series.len() <= usize::from(day) {
                series.resize(usize::from(day) + 1, None);
            }
            let cell = &mut series[usize::from(day)];
            // The worst score of the day: applying a score twice changes nothing.
            *cell = Some(cell.map_or(score, |s| s.max(score)));
            t.days.insert(day);
            *self.versions.entry(t.protocol_id).or_default() += 1;
        }
        self.snapshot = Some(changes.snapshot);
    }

    fn upsert_treatment(&mut self, f: TreatmentFacts) {
        let tz: Tz = f.timezone.parse().unwrap_or(Tz::UTC);
        let facts = Treatment {
            id: f.id,
            clinic_id: f.clinic_id,
            protocol_id: f.protocol_id,
            patient_id: f.patient_id,
            performed_at: f.performed_at,
            performed_on: local_date(f.performed_at, tz),
            tz,
            fitzpatrick_type: f.fitzpatrick_type,
            session_number: f.session_number,
            areas: crate::domain::codes::parse_all(&f.areas, Area::parse),
            daily: Vec::new(),
            days: BTreeSet::new(),
        };
        *self.versions.entry(f.protocol_id).or_default() += 1;
        match self.treatments.get_mut(&f.id) {
            Some(existing) => {
                let (daily, days) = (
                    std::mem::take(&mut existing.daily),
                    std::mem::take(&mut existing.days),
                );
                *existing = Treatment {
                    daily,
                    days,
                    ..facts
                };
            }
            None => {
                self.by_protocol
                    .entry(f.protocol_id)
                    .or_default()
                    .push(f.id);
                self.by_patient.entry(f.patient_id).or_default().push(f.id);
                self.treatments.insert(f.id, facts);
            }
        }
    }
}
