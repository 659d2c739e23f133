//! The recovery read model: every treatment's worst score per symptom and day, held in memory and
//! kept exact by reading, on each use, only the rows written since the snapshot it last read
//! (`db::recovery::changes`).
//!
//! Each protocol's whole cohort (daily score counts, resolution events, checked-in days) is kept up
//! to date as scores arrive, so unfiltered views cost the size of the answer, not of the data; a
//! filtered view scans the protocol's treatments. The store spans every clinic, like a materialized
//! view: callers reach it only with a protocol or patient they have already loaded through their own
//! tenant.

mod daily;
mod memo;
mod reads;

use std::collections::HashMap;
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

pub(crate) use daily::Daily;

use super::segments::{Aggregate, Segment};
use crate::db::recovery::{Item, Score, TreatmentFacts, changes};
use crate::domain::codes::Area;
use crate::domain::recovery::{
    Course, DayScore, Events, Histogram, adherence, course, usual_resolution_day,
};
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
    pub(super) daily: Daily,
    /// The days on which the patient checked in, sorted.
    pub(super) days: Vec<u16>,
}

impl Treatment {
    fn series(&self, code: Option<usize>) -> &[DayScore] {
        code.map_or(&[], |c| self.daily.series(c))
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
    /// The treatments changed since `epoch` began, in order (`Store::with_window`).
    touched: Vec<Uuid>,
    /// Counts full loads, and the times `touched` was forgotten.
    epoch: u64,
}

#[derive(Default)]
pub struct Store {
    state: RwLock<State>,
    /// Held while refreshing; holds when the last refresh began.
    refreshing: Mutex<Option<std::time::Instant>>,
    memos: memo::Memos,
}

/// Whose treatments `Store::with_treatments` reads (a protocol's recent ones: `Store::with_window`).
pub enum Of {
    Patient(Uuid),
}

/// A treatment with the daily scores of the requested symptoms, in their order.
pub struct TreatmentSeries<'a> {
    pub treatment: &'a Treatment,
    pub series: Vec<&'a [DayScore]>,
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
                loaded.epoch = state.epoch + 1;
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
}

impl State {
    /// Applies one change read since the last snapshot.
    fn apply(&mut self, item: Item) {
        match item {
            Item::Begin { .. } => {}
            Item::Treatment(facts) => {
                self.touch(facts.id);
                self.upsert_treatment(facts);
            }
            Item::Score(score) => {
                self.touch(*score.treatment_id.as_uuid());
                self.apply_score(score);
            }
            Item::Deleted(id) => {
                self.touch(id);
                self.remove_treatment(id);
            }
        }
    }

    /// Notes a changed treatment for the memos (once for a run of its scores).
    fn touch(&mut self, id: Uuid) {
        if self.touched.last() == Some(&id) {
            return;
        }
        if self.touched.len() == memo::TOUCHED {
            self.touched.clear();
            self.epoch += 1;
        }
        self.touched.push(id);
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
        for t in self.treatments.values_mut() {
            t.daily.shrink();
            t.days.shrink_to_fit();
        }
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
        let t = self.treatments.get_mut(s.treatment_id.as_uuid())?;
        let (day, score) = (u16::try_from(s.day).ok()?, u8::try_from(s.score).ok()?);
        let d = usize::from(day);
        let cell = t.daily.cell(code, d);
        let old = cell.get();
        let new = old.map_or(score, |o| o.max(score));
        *cell = DayScore::new(new);
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
            .get(s.treatment_id.as_uuid())
            .map(|t| course(t.series(code)))
        else {
            return;
        };
        let Some(r) = self.record(&s) else { return };
        let Some(t) = self.treatments.get(s.treatment_id.as_uuid()) else {
            return;
        };
        let after = course(t.series(Some(r.code)));
        let cells: Vec<_> = r.cell.into_iter().collect();
        let new_days: Vec<_> = r.new_day.into_iter().collect();
        for segment in Segment::of(t) {
            let agg = self.aggregates.entry((t.protocol_id, segment)).or_default();
            agg.apply(t.performed_on, r.code, &cells, &new_days, before, after);
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
        self.zones.insert(f.protocol_id.uuid(), tz);
        let mut areas: Vec<Area> = f.areas.into_iter().flatten().collect();
        // Each area is one segment: a repeated area must not count twice.
        areas.sort();
        areas.dedup();
        Treatment {
            id: f.id,
            clinic_id: f.clinic_id,
            protocol_id: f.protocol_id.uuid(),
            patient_id: f.patient_id.uuid(),
            performed_at: f.performed_at,
            performed_on: local_date(f.performed_at, tz),
            fitzpatrick_type: f.fitzpatrick_type,
            session_number: f.session_number,
            areas,
            daily: Daily::default(),
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
                self.by_protocol
                    .entry(protocol_id.uuid())
                    .or_default()
                    .push(id);
                self.by_patient
                    .entry(patient_id.uuid())
                    .or_default()
                    .push(id);
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
