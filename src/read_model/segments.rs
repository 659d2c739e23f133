//! The parts of a protocol's cohort that the read model keeps aggregated as scores arrive: the
//! whole, and the treatments of one skin type, one session number or one area.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Filter, Treatment};
use crate::domain::codes::Area;
use crate::domain::recovery::{Course, Events, Histogram, course};

/// A part of a protocol's cohort that is kept aggregated: the whole, or the treatments of one skin
/// type, one session number or one area. Other filters scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Segment {
    All,
    Fitzpatrick(i16),
    Session(i32),
    Area(Area),
}

impl Segment {
    pub(super) fn of(t: &Treatment) -> Vec<Segment> {
        let mut segments = vec![Segment::All, Segment::Session(t.session_number)];
        segments.extend(t.fitzpatrick_type.map(Segment::Fitzpatrick));
        segments.extend(t.areas.iter().map(|&a| Segment::Area(a)));
        segments
    }

    /// The segment that is exactly this filter, if there is one.
    pub(super) fn for_filter(f: &Filter) -> Option<Segment> {
        match (f.from, f.to, f.fitzpatrick_type, f.area, f.session_number) {
            (None, None, None, None, None) => Some(Segment::All),
            (None, None, Some(t), None, None) => Some(Segment::Fitzpatrick(t)),
            (None, None, None, Some(a), None) => Some(Segment::Area(a)),
            (None, None, None, None, Some(n)) => Some(Segment::Session(n)),
            _ => None,
        }
    }
}

/// A segment's cohort, kept current score by score.
#[derive(Debug, Default)]
pub(super) struct Aggregate {
    pub(super) treatments: u32,
    /// By interned code: daily histograms (every day reported), affected count, resolution events.
    pub(super) codes: Vec<(Vec<Histogram>, u32, Events)>,
    /// Treatments by date, for adherence and for what is running today.
    pub(super) by_date: BTreeMap<NaiveDate, Vec<Uuid>>,
    /// By day since treatment: how many treatments had a check-in that day.
    pub(super) checked: Vec<u32>,
    /// The same, by treatment date: adherence counts the days done by treatments too recent for
    /// the day to be due.
    pub(super) checked_by_date: BTreeMap<NaiveDate, Vec<u32>>,
}

impl Aggregate {
    pub(super) fn treatments_before(&self, date: NaiveDate) -> u64 {
        self.by_date
            .range(..date)
            .map(|(_, ids)| ids.len() as u64)
            .sum()
    }

    pub(super) fn code(&mut self, code: usize) -> &mut (Vec<Histogram>, u32, Events) {
        if self.codes.len() <= code {
            self.codes.resize_with(code + 1, Default::default);
        }
        &mut self.codes[code]
    }

    pub(super) fn count_day(&mut self, performed_on: NaiveDate, day: usize, delta: i64) {
        let by_date = self.checked_by_date.entry(performed_on).or_default();
        for counts in [&mut self.checked, by_date] {
            if counts.len() <= day {
                counts.resize(day + 1, 0);
            }
            counts[day] = (i64::from(counts[day]) + delta).max(0) as u32;
        }
    }

    /// How many treatments performed on `from` or later had a check-in on `day`.
    pub(super) fn checked_since(&self, from: NaiveDate, day: usize) -> u64 {
        self.checked_by_date
            .range(from..)
            .map(|(_, counts)| u64::from(counts.get(day).copied().unwrap_or(0)))
            .sum()
    }

    /// Adds (or, with `sign` -1, removes) everything a treatment contributes.
    pub(super) fn contribute(&mut self, t: &Treatment, sign: i64) {
        let ids = self.by_date.entry(t.performed_on).or_default();
        if sign > 0 {
            self.treatments += 1;
            ids.push(t.id);
        } else {
            self.treatments = self.treatments.saturating_sub(1);
            ids.retain(|id| *id != t.id);
        }
        for (code, series) in t.daily.rows().enumerate() {
            let (histograms, affected, events) = self.code(code);
            if histograms.len() < series.len() {
                histograms.resize(series.len(), Histogram::default());
            }
            for (h, score) in histograms.iter_mut().zip(series) {
                match (score.get(), sign > 0) {
                    (Some(s), true) => h.add(s),
                    (Some(s), false) => h.remove(s),
                    (None, _) => {}
                }
            }
            let c = course(series);
            let hit = u32::from(c != Course::Unaffected);
            if sign > 0 {
                events.add(c);
                *affected += hit;
            } else {
                events.remove(c);
                *affected = affected.saturating_sub(hit);
            }
        }
        for &day in &t.days {
            self.count_day(t.performed_on, usize::from(day), sign);
        }
    }

    /// Applies the changes one batch of scores made to one symptom of one treatment.
    pub(super) fn apply(
        &mut self,
        performed_on: NaiveDate,
        code: usize,
        cells: &[(usize, Option<u8>, u8)],
        new_days: &[usize],
        before: Course,
        after: Course,
    ) {
        let (histograms, affected, events) = self.code(code);
        for &(day, old, new) in cells {
            if histograms.len() <= day {
                histograms.resize(day + 1, Histogram::default());
            }
            if let Some(old) = old {
                histograms[day].remove(old);
            }
            histograms[day].add(new);
        }
        if after != before {
            events.remove(before);
            events.add(after);
            *affected = *affected + u32::from(after != Course::Unaffected)
                - u32::from(before != Course::Unaffected);
        }
        for &day in new_days {
            self.count_day(performed_on, day, 1);
        }
    }
}
