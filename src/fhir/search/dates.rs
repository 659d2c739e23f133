//! Date search values (`_lastUpdated`, `date`, `authored`): a prefix and the period it names, and
//! the instants and the days that match it.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// FHIR's date comparisons (`ne` and `ap` are not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
    Sa,
    Eb,
}

/// A date search value: a prefix and the period it names, `[start, end)`: a year, a month or a
/// day (in UTC, as the resources write their instants), or an instant (RFC 3339 with its offset),
/// which names itself alone (the server keeps microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DateValue {
    prefix: Prefix,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl DateValue {
    pub(super) fn parse(value: &str) -> Result<DateValue, String> {
        // `get`, not `split_at`: a value may begin with a character of several bytes.
        let (prefix, time) = match value
            .get(..2)
            .filter(|p| p.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            Some(p) => (p, value.get(2..).unwrap_or_default()),
            None => ("eq", value),
        };
        let prefix = match prefix {
            "eq" => Prefix::Eq,
            "gt" => Prefix::Gt,
            "ge" => Prefix::Ge,
            "lt" => Prefix::Lt,
            "le" => Prefix::Le,
            "sa" => Prefix::Sa,
            "eb" => Prefix::Eb,
            other => {
                return Err(format!(
                    "'{other}' is not a supported prefix (eq, gt, ge, lt, le, sa, eb)"
                ));
            }
        };
        let (start, end) = period(time).ok_or_else(|| {
            format!(
                "'{time}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD) or an instant with its offset"
            )
        })?;
        Ok(DateValue { prefix, start, end })
    }

    /// The instants `t` that match, as `[from, to)`: an instant's period is itself, so "the period
    /// above the value overlaps t" is `t >= end`, and so on.
    pub(super) fn instants(self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let (s, e) = (self.start, self.end);
        match self.prefix {
            Prefix::Eq => (Some(s), Some(e)),
            Prefix::Gt | Prefix::Sa => (Some(e), None),
            Prefix::Ge => (Some(s), None),
            Prefix::Lt | Prefix::Eb => (None, Some(s)),
            Prefix::Le => (None, Some(e)),
        }
    }

    /// The days `d` (in UTC, the period `[d, d + 1)`) that match, as `[from, to)`, by FHIR's rules:
    /// `eq` the value's period holds the day, `gt` the period after the value overlaps it, `ge`
    /// either, `sa` the day starts after the value, `eb` it ends before.
    pub(super) fn days(self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let (s, e) = (self.start, self.end);
        let day = Duration::days(1);
        // The first day starting at or after t, and the day after the one holding t.
        let ceil = |t: DateTime<Utc>| {
            let d = t.date_naive();
            if d.and_hms_opt(0, 0, 0).is_some_and(|m| m.and_utc() == t) {
                d
            } else {
                d.succ_opt().unwrap_or(d)
            }
        };
        let after = |t: DateTime<Utc>| {
            let d = t.date_naive();
            d.succ_opt().unwrap_or(d)
        };
        match self.prefix {
            Prefix::Eq => (Some(ceil(s)), Some(after(e - day))),
            Prefix::Gt => (Some(after(e - day)), None),
            Prefix::Sa => (Some(ceil(e)), None),
            Prefix::Ge => (Some(ceil(s).min(after(e - day))), None),
            Prefix::Lt => (None, Some(ceil(s))),
            Prefix::Eb => (None, Some(after(s - day))),
            Prefix::Le => (None, Some(ceil(s).max(after(e - day)))),
        }
    }
}

/// The period a date search value names: a year, a month, a day (UTC), or an instant.
fn period(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if text.contains('T') {
        let t = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
        return Some((t, t + Duration::microseconds(1)));
    }
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = text.split('-').collect();
    let (start, end) = match parts[..] {
        [y] if digits(y, 4) => {
            let y: i32 = y.parse().ok()?;
            (
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y + 1, 1, 1)?,
            )
        }
        [y, m] if digits(y, 4) && digits(m, 2) => {
            let start = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
            (start, start.checked_add_months(chrono::Months::new(1))?)
        }
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
            let day = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
            (day, day.succ_opt()?)
        }
        _ => return None,
    };
    Some((midnight(start)?, midnight(end)?))
}

pub(super) fn later<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

pub(super) fn earlier<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
