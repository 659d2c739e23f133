//! Reading the store: a protocol's cohort (whole or filtered), its usual resolution days and
//! adherence, and the treatments of a patient or of a protocol in a date range.

use super::*;

impl Store {
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
                    if let Some(score) = score.get() {
                        histogram.add(score);
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

    /// Whether the treatment is one of the protocol's and passes `filter`.
    pub fn matches(&self, protocol_id: Uuid, treatment_id: Uuid, filter: &Filter) -> bool {
        self.read()
            .treatments
            .get(&treatment_id)
            .is_some_and(|t| t.protocol_id == protocol_id && filter.matches(t))
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
            due += agg.checked_since(cutoff, usize::from(d));
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
    pub(super) fn indices(&self, codes: &[String]) -> Vec<Option<usize>> {
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
}
