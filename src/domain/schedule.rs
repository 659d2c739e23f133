//! Days since treatment, counted in the clinic's time zone, and the check-in schedule built on them.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::Invalid;

/// Every day 0-14, then 21 and 28: the schedule a protocol gets when it names none.
pub fn default_check_in_days() -> Vec<i32> {
    (0..=14).chain([21, 28]).collect()
}

pub const MAX_SCHEDULE_DAY: i32 = 365;

/// Sorts and de-duplicates a schedule; each day must be 0-365 and there must be at least one.
pub fn normalize_check_in_days(invalid: &mut Invalid, field: &str, days: &[i32]) -> Vec<i32> {
    invalid.check(!days.is_empty(), field, "must name at least one day");
    normalize_days(invalid, field, days)
}

/// Days since treatment, sorted and de-duplicated; each must be 0-365.
pub fn normalize_days(invalid: &mut Invalid, field: &str, days: &[i32]) -> Vec<i32> {
    invalid.check(
        days.iter().all(|d| (0..=MAX_SCHEDULE_DAY).contains(d)),
        field,
        "days must be from 0 to 365",
    );
    let mut days = days.to_vec();
    days.sort_unstable();
    days.dedup();
    days
}

/// The calendar date of an instant in the clinic's time zone.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// Days since the treatment: the treatment's own local date is day 0.
pub fn day_of(recorded_at: DateTime<Utc>, performed_at: DateTime<Utc>, tz: Tz) -> i32 {
    let days = (local_date(recorded_at, tz) - local_date(performed_at, tz)).num_days();
    days as i32
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    /// At least one check-in was recorded on that day.
    Done,
    /// The day has passed without a check-in.
    Missed,
    /// The day is today in the clinic's time zone, and no check-in has come yet.
    Due,
    Upcoming,
}

impl DueStatus {
    pub const ALL: [DueStatus; 4] = [
        DueStatus::Done,
        DueStatus::Missed,
        DueStatus::Due,
        DueStatus::Upcoming,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledDay {
    /// Days since the treatment.
    pub day: i32,
    /// The calendar date of that day in the clinic's time zone.
    pub date: NaiveDate,
    pub done: bool,
    pub status: DueStatus,
}

/// The due days of a treatment and which were done, as of `now`.
pub fn schedule(
    performed_at: DateTime<Utc>,
    tz: Tz,
    check_in_days: &[i32],
    done_days: &[i32],
    now: DateTime<Utc>,
) -> Vec<ScheduledDay> {
    let start = local_date(performed_at, tz);
    let today = local_date(now, tz);
    check_in_days
        .iter()
        .filter_map(|&day| {
            let date = start.checked_add_days(Days::new(u64::try_from(day).ok()?))?;
            let done = done_days.contains(&day);
            let status = match (done, date.cmp(&today)) {
                (true, _) => DueStatus::Done,
                (false, std::cmp::Ordering::Less) => DueStatus::Missed,
                (false, std::cmp::Ordering::Equal) => DueStatus::Due,
                (false, std::cmp::Ordering::Greater) => DueStatus::Upcoming,
            };
            Some(ScheduledDay {
                day,
                date,
                done,
                status,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_are_counted_in_the_clinics_time_zone() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Treated 23:30 Berlin time on the 20th (22:30 UTC).
        let performed = at("2026-11-20T22:30:00Z");
        assert_eq!(day_of(at("2026-11-20T22:50:00Z"), performed, tz), 0);
        // 23:10 UTC is already the 21st in Berlin: day 1, though UTC says it is still the 20th.
        assert_eq!(day_of(at("2026-11-20T23:10:00Z"), performed, tz), 1);
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(day_of(at("2026-11-21T07:00:00Z"), performed, tz), 0);
    }

    #[test]
    fn schedules_are_sorted_and_distinct() {
        let mut inv = Invalid::default();
        assert_eq!(
            normalize_check_in_days(&mut inv, "d", &[3, 0, 3, 1]),
            [0, 1, 3]
        );
        assert!(inv.0.is_empty());
        normalize_check_in_days(&mut inv, "d", &[-1]);
        normalize_check_in_days(&mut inv, "d", &[]);
        assert_eq!(inv.0.len(), 2);
        assert_eq!(default_check_in_days().len(), 17);
    }

    #[test]
    fn schedule_marks_done_missed_due_and_upcoming() {
        let tz: Tz = "UTC".parse().unwrap();
        let performed = at("2026-11-18T10:00:00Z");
        let now = at("2026-11-20T12:00:00Z");
        let days = schedule(performed, tz, &[0, 1, 2, 3], &[0], now);
        let statuses: Vec<_> = days.iter().map(|d| d.status).collect();
        assert_eq!(
            statuses,
            [
                DueStatus::Done,
                DueStatus::Missed,
                DueStatus::Due,
                DueStatus::Upcoming
            ]
        );
        assert_eq!(days[3].date, NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
    }
}
