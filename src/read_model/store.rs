//! The recovery read model: every treatment's worst score per symptom and day, held in memory and
//! kept exact by reading, on each use, only the rows written since the snapshot it last read
//! (`db::recovery::changes`).
//!
//! Each protocol's whole cohort (daily score counts, resolution events, checked-in days) is kept up
//! to date as scores arrive, so unfiltered views cost the size of the answer, not of the data; a
//! filtered view scans the protocol's treatments. The store spans every clinic, like a materialized
//! view: callers reach it only with a protocol or patient they have already loaded through their own
//! tenant.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

use super::segments::{Aggregate, Segment};
use crate::db::recovery::{Item, Score, TreatmentFacts, changes};
use crate::domain::codes::Area;
use crate::domain::recovery::{Course, Events, Histogram, adherence, course, usual_resolution_day};
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
    pub fitzpatrick_type: Option<i16>,
    pub session_number: i32,
    pub areas: Vec<Area>,
    /// The worst score of each symptom (by interned code) on each day since treatment.
    pub(super) daily: Vec<Vec<Option<u8>>>,
    /// The days on which the patient checked in, sorted.
    pub(super) days: Vec<u16>,
}

impl Treatment {
    fn series(&self, code: Option<usize>) -> &[Option<u8>] {
        code.and_then(|c| self.daily.get(c))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn checked_in(&self, day: u16) -> bool {
        self.days.binary_search(&day).is_ok()
    }

    /// The days on which the patient checked in.
    pub fn check_in_days(&self) -> impl Iterator<Item = i32> + '_ {
        self.days.iter().map(|&d| i32::from(d))
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
    /// Day 0 to the last day asked for.
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

/// What recording one score changed: its symptom (interned), the day's worst before and after
/// when it changed, and the day when it is the treatment's first check-in that day.
struct Recorded {
    code: usize,
    cell: Option<(usize, Option<u8>, u8)>,
    new_day: Option<usize>,
}

#[derive(Default)]
struct State {
    snapshot: Option<String>,
    treatments: HashMap<Uuid, Treatment>,
    by_protocol: HashMap<Uuid, Vec<Uuid>>,
    by_patient: HashMap<Uuid, Vec<Uuid>>,
    aggregates: HashMap<(Uuid, Segment), Aggregate>,
    /// Each protocol's clinic time zone, for "today".
    zones: HashMap<Uuid, Tz>,
    codes: HashMap<String, usize>,
}

#[derive(Default)]
pub struct Store {
    state: RwLock<State>,
    /// Held while refreshing; holds when the last refresh began.
    refreshing: Mutex<Option<std::time::Instant>>,
}

pub enum Of {
    Patient(Uuid),
    /// A protocol's treatments performed in this date range (inclusive).
    ProtocolBetween(Uuid, NaiveDate, NaiveDate),
}

/// A treatment with the daily scores of the requested symptoms, in their order.
pub struct TreatmentSeries<'a> {
    pub treatment: &'a Treatment,
    pub series: Vec<&'a [Option<u8>]>,
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Brings the copy up to date with what the database has committed.
    pub fn refresh(&self, conn: &mut PgConnection) -> QueryResult<()> {
        self.refresh_if_older(conn, std::time::Duration::ZERO)
    }

    /// Refreshes unless the last refresh began less than `age` ago, or one is under way (whose
    /// result is fresh enough): a caller on a hot path never waits for another's refresh.
    pub fn refresh_if_older(
        &self,
        conn: &mut PgConnection,
        age: std::time::Duration,
    ) -> QueryResult<()> {
        let mut last = if age.is_zero() {
            self.refreshing.lock().unwrap_or_else(|e| e.into_inner())
        } else {
            match self.refreshing.try_lock() {
                Ok(last) if !last.is_some_and(|at| at.elapsed() < age) => last,
                _ => return Ok(()),
            }
        };
        *last = Some(std::time::Instant::now());
        let since = self.read().snapshot.clone();
        // A full load builds a new model beside the one in use; a delta is read, then applied.
        let (mut snapshot, mut fresh, mut delta) = (None, None, vec![]);
        changes(conn, since.as_deref(), |item| match item {
            Item::Begin { snapshot: s, full } => {
                snapshot = Some(s);
                fresh = full.then(State::default);
            }
            item => match &mut fresh {
                Some(state) => state.load(item),
                None => delta.push(item),
            },
        })?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        match fresh {
            Some(mut loaded) => {
                loaded.finish_load();
                *state = loaded;
            }
            None => delta.into_iter().for_each(|item| state.apply(item)),
        }
        state.snapshot = snapshot;
        Ok(())
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
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
        if let Some(segment) = Segment::for_filter(filter) {
            return state.aggregated_cohort(protocol_id, segment, codes, last_day);
        }
        let indices = state.indices(codes);
        let mut cohort = Cohort {
            treatments: 0,
            symptoms: codes
                .iter()
                .map(|c| SymptomCohort {
                    code: c.clone(),
                    days: vec![Histogram::default(); usize::from(last_day) + 1],
                    ..Default::default()
                })
                .collect(),
        };
        for t in state
            .candidates(protocol_id, filter)
            .filter(|t| filter.matches(t))
        {
            cohort.treatments += 1;
            for (symptom, &idx) in cohort.symptoms.iter_mut().zip(&indices) {
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
        cohort
    }

    /// The protocol's usual resolution day of each of `codes` (`usual_resolution_day`), over its
    /// whole cohort: what "slower than usual" is measured against, in the views and the alert rule.
    pub fn usual_resolution_days(&self, protocol_id: Uuid, codes: &[String]) -> Vec<Option<u16>> {
        let state = self.read();
        let agg = state.aggregates.get(&(protocol_id, Segment::All));
        state
            .indices(codes)
            .into_iter()
            .map(|idx| {
                let (_, _, events) = idx.and_then(|i| agg?.codes.get(i))?;
                usual_resolution_day(events)
            })
            .collect()
    }

    /// The ids of a protocol's treatments that pass `filter`.
    pub fn matching(&self, protocol_id: Uuid, filter: &Filter) -> std::collections::HashSet<Uuid> {
        let state = self.read();
        state
            .candidates(protocol_id, filter)
            .filter(|t| filter.matches(t))
            .map(|t| t.id)
            .collect()
    }

    /// Adherence of a protocol's filtered treatments: (done, due) scheduled days.
    pub fn adherence(&self, protocol_id: Uuid, schedule: &[i32], filter: &Filter) -> (u64, u64) {
        let state = self.read();
        let today = local_date(
            Utc::now(),
            state.zones.get(&protocol_id).copied().unwrap_or(Tz::UTC),
        );
        let Some(segment) = Segment::for_filter(filter) else {
            return state
                .candidates(protocol_id, filter)
                .filter(|t| filter.matches(t))
                .map(|t| adherence(t.performed_on, schedule, |d| t.checked_in(d), today, None))
                .fold((0, 0), |(a, b), (d, n)| {
                    (a + u64::from(d), b + u64::from(n))
                });
        };
        let Some(agg) = state.aggregates.get(&(protocol_id, segment)) else {
            return (0, 0);
        };
        // Done: every check-in on a scheduled day. Due: every scheduled day that has passed, plus
        // those not passed but done (which only recent treatments can have).
        let (mut done, mut due) = (0u64, 0u64);
        for &day in schedule {
            let Ok(d) = u16::try_from(day) else { continue };
            done += u64::from(agg.checked.get(usize::from(d)).copied().unwrap_or(0));
            let Some(cutoff) = today.checked_sub_days(Days::new(u64::from(d))) else {
                continue;
            };
            due += agg.treatments_before(cutoff);
            due += agg
                .by_date
                .range(cutoff..)
                .flat_map(|(_, ids)| ids)
                .filter(|id| state.treatments.get(id).is_some_and(|t| t.checked_in(d)))
                .count() as u64;
        }
        (done, due)
    }

    /// Applies `f` to each of a protocol's treatments performed in the last `days` days before
    /// `now` (by the clinic's calendar), with that date, and keeps what it returns.
    pub fn performed_within<R>(
        &self,
        protocol_id: Uuid,
        now: chrono::DateTime<Utc>,
        days: u32,
        f: impl Fn(&Treatment, NaiveDate) -> Option<R>,
    ) -> Vec<R> {
        let state = self.read();
        let today = local_date(
            now,
            state.zones.get(&protocol_id).copied().unwrap_or(Tz::UTC),
        );
        let Some(agg) = state.aggregates.get(&(protocol_id, Segment::All)) else {
            return vec![];
        };
        let start = today
            .checked_sub_days(Days::new(u64::from(days)))
            .unwrap_or(today);
        agg.by_date
            .range(start..=today)
            .flat_map(|(_, ids)| ids)
            .filter_map(|id| state.treatments.get(id))
            .filter_map(|t| f(t, today))
            .collect()
    }

    /// Calls `f` with the chosen treatments, each with its daily scores of `codes`. `f` runs under
    /// the store's read lock, so it must not call back into the store.
    pub fn with_treatments<R>(
        &self,
        of: Of,
        codes: &[String],
        f: impl FnOnce(Vec<TreatmentSeries<'_>>) -> R,
    ) -> R {
        let state = self.read();
        let ids: Vec<Uuid> = match of {
            Of::Patient(id) => state.by_patient.get(&id).cloned().unwrap_or_default(),
            Of::ProtocolBetween(id, from, to) => state
                .aggregates
                .get(&(id, Segment::All))
                .map(|a| {
                    a.by_date
                        .range(from..=to)
                        .flat_map(|(_, ids)| ids.iter().copied())
                        .collect()
                })
                .unwrap_or_default(),
        };
        let indices = state.indices(codes);
        let treatments = ids
            .iter()
            .filter_map(|id| state.treatments.get(id))
            .map(|t| TreatmentSeries {
                treatment: t,
                series: indices.iter().map(|&i| t.series(i)).collect(),
            })
            .collect();
        f(treatments)
    }
}

impl State {
    fn indices(&self, codes: &[String]) -> Vec<Option<usize>> {
        codes.iter().map(|c| self.codes.get(c).copied()).collect()
    }

    /// The treatments a filter could match: those of its smallest segment, in its date range.
    fn candidates<'a>(
        &'a self,
        protocol_id: Uuid,
        filter: &Filter,
    ) -> Box<dyn Iterator<Item = &'a Treatment> + 'a> {
        let segments = [
            Some(Segment::All),
            filter.fitzpatrick_type.map(Segment::Fitzpatrick),
            filter.area.map(Segment::Area),
            filter.session_number.map(Segment::Session),
        ];
        let smallest = segments
            .into_iter()
            .flatten()
            .filter_map(|s| self.aggregates.get(&(protocol_id, s)))
            .min_by_key(|agg| agg.treatments);
        let Some(agg) = smallest else {
            return Box::new(std::iter::empty());
        };
        let (from, to) = (
            filter.from.unwrap_or(NaiveDate::MIN),
            filter.to.unwrap_or(NaiveDate::MAX),
        );
        Box::new(
            agg.by_date
                .range(from..=to)
                .flat_map(|(_, ids)| ids)
                .filter_map(|id| self.treatments.get(id)),
        )
    }

    fn aggregated_cohort(
        &self,
        protocol_id: Uuid,
        segment: Segment,
        codes: &[String],
        last_day: u16,
    ) -> Cohort {
        let agg = self.aggregates.get(&(protocol_id, segment));
        let days = usize::from(last_day) + 1;
        let symptoms = self
            .indices(codes)
            .into_iter()
            .zip(codes)
            .map(|(idx, code)| {
                let (histograms, affected, events) = match idx.and_then(|i| agg?.codes.get(i)) {
                    Some((h, a, e)) => (h.as_slice(), *a, e.clone()),
                    None => (&[][..], 0, Events::default()),
                };
                let mut days_out: Vec<Histogram> = histograms.iter().take(days).copied().collect();
                days_out.resize(days, Histogram::default());
                SymptomCohort {
                    code: code.clone(),
                    days: days_out,
                    affected,
                    events,
                }
            })
            .collect();
        Cohort {
            treatments: agg.map_or(0, |a| a.treatments),
            symptoms,
        }
    }

    /// Applies one change read since the last snapshot.
    fn apply(&mut self, item: Item) {
        match item {
            Item::Begin { .. } => {}
            Item::Treatment(facts) => self.upsert_treatment(facts),
            Item::Score(score) => self.apply_score(score),
            Item::Deleted(id) => self.remove_treatment(id),
        }
    }

    /// Adds one item of a full load; `finish_load` then aggregates the cohorts once.
    fn load(&mut self, item: Item) {
        match item {
            Item::Treatment(facts) => {
                let t = self.treatment(facts);
                self.by_protocol
                    .entry(t.protocol_id)
                    .or_default()
                    .push(t.id);
                self.by_patient.entry(t.patient_id).or_default().push(t.id);
                self.treatments.insert(t.id, t);
            }
            Item::Score(score) => {
                self.record(&score);
            }
            Item::Begin { .. } | Item::Deleted(_) => {}
        }
    }

    fn finish_load(&mut self) {
        for t in self.treatments.values() {
            for segment in Segment::of(t) {
                self.aggregates
                    .entry((t.protocol_id, segment))
                    .or_default()
                    .contribute(t, 1);
            }
        }
    }

    /// Keeps a score as its day's worst (so applying one twice changes nothing), and says what
    /// changed; None when its treatment is unknown or the score out of range.
    fn record(&mut self, s: &Score) -> Option<Recorded> {
        let next = self.codes.len();
        let code = match self.codes.get(&s.symptom_code) {
            Some(&code) => code,
            None => *self.codes.entry(s.symptom_code.clone()).or_insert(next),
        };
        let t = self.treatments.get_mut(&s.treatment_id)?;
        let (day, score) = (u16::try_from(s.day).ok()?, u8::try_from(s.score).ok()?);
        if t.daily.len() <= code {
            t.daily.resize(code + 1, Vec::new());
        }
        let series = &mut t.daily[code];
        let d = usize::from(day);
        if series.len() <= d {
            series.resize(d + 1, None);
        }
        let old = series[d];
        let new = old.map_or(score, |o| o.max(score));
        series[d] = Some(new);
        let new_day = t.days.binary_search(&day).err().map(|at| {
            t.days.insert(at, day);
            d
        });
        Some(Recorded {
            code,
            cell: (old != Some(new)).then_some((d, old, new)),
            new_day,
        })
    }

    fn apply_score(&mut self, s: Score) {
        let code = self.codes.get(&s.symptom_code).copied();
        let Some(before) = self
            .treatments
            .get(&s.treatment_id)
            .map(|t| course(t.series(code)))
        else {
            return;
        };
        let Some(r) = self.record(&s) else { return };
        let Some(t) = self.treatments.get(&s.treatment_id) else {
            return;
        };
        let after = course(t.series(Some(r.code)));
        let cells: Vec<_> = r.cell.into_iter().collect();
        let new_days: Vec<_> = r.new_day.into_iter().collect();
        for segment in Segment::of(t) {
            let agg = self.aggregates.entry((t.protocol_id, segment)).or_default();
            agg.apply(r.code, &cells, &new_days, before, after);
        }
    }

    /// Drops a deleted treatment and everything it contributed to its cohort.
    fn remove_treatment(&mut self, id: Uuid) {
        let Some(old) = self.treatments.remove(&id) else {
            return;
        };
        for segment in Segment::of(&old) {
            if let Some(agg) = self.aggregates.get_mut(&(old.protocol_id, segment)) {
                agg.contribute(&old, -1);
            }
        }
        for (index, key) in [
            (&mut self.by_protocol, old.protocol_id),
            (&mut self.by_patient, old.patient_id),
        ] {
            if let Some(ids) = index.get_mut(&key) {
                ids.retain(|t| *t != id);
                if ids.is_empty() {
                    index.remove(&key);
                }
            }
        }
    }

    /// A treatment from its facts, with no scores yet.
    fn treatment(&mut self, f: TreatmentFacts) -> Treatment {
        let tz = f.timezone;
        self.zones.insert(f.protocol_id, tz);
        let mut areas = crate::domain::codes::parse_all(&f.areas, Area::parse);
        // Each area is one segment: a repeated area must not count twice.
        areas.sort();
        areas.dedup();
        Treatment {
            id: f.id,
            clinic_id: f.clinic_id,
            protocol_id: f.protocol_id,
            patient_id: f.patient_id,
            performed_at: f.performed_at,
            performed_on: local_date(f.performed_at, tz),
            fitzpatrick_type: f.fitzpatrick_type,
            session_number: f.session_number,
            areas,
            daily: Vec::new(),
            days: Vec::new(),
        }
    }

    fn upsert_treatment(&mut self, f: TreatmentFacts) {
        let (id, patient_id, protocol_id) = (f.id, f.patient_id, f.protocol_id);
        let mut t = self.treatment(f);
        match self.treatments.remove(&id) {
            // A patient's details changed (a skin type, say): move the treatment between segments.
            Some(old) => {
                for segment in Segment::of(&old) {
                    self.aggregates
                        .entry((old.protocol_id, segment))
                        .or_default()
                        .contribute(&old, -1);
                }
                (t.daily, t.days) = (old.daily, old.days);
            }
            None => {
                self.by_protocol.entry(protocol_id).or_default().push(id);
                self.by_patient.entry(patient_id).or_default().push(id);
            }
        }
        for segment in Segment::of(&t) {
            self.aggregates
                .entry((t.protocol_id, segment))
                .or_default()
                .contribute(&t, 1);
        }
        self.treatments.insert(id, t);
    }
}
