//! Limits on the ways in: sign-in, enrollment and refresh are rate-limited per client address and
//! per account, and an account that keeps failing to sign in is slowed down. Kept in memory, per
//! instance: a restart forgets them, and with several instances each counts on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// Attempts allowed per window, and the window.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub attempts: u32,
    pub per: Duration,
}

const MINUTE: Duration = Duration::from_secs(60);

/// Per client address, by default (`AFTERCARE_AUTH_ATTEMPTS_PER_MINUTE`): enough for a clinic's
/// staff behind one NAT, not for guessing.
pub const PER_ADDRESS: Rate = Rate {
    attempts: 60,
    per: MINUTE,
};
/// Per account (an email, an enrollment code, a refresh token).
pub const PER_ACCOUNT: Rate = Rate {
    attempts: 10,
    per: MINUTE,
};
/// Failed sign-ins in a row an account may have before each further one locks it for a while,
/// doubling from a second up to 15 minutes.
pub const FREE_FAILURES: u32 = 5;
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);

#[derive(Debug)]
struct Window {
    started: Instant,
    count: u32,
}

#[derive(Debug)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

#[derive(Debug)]
pub struct Limits {
    per_address: Rate,
    windows: Mutex<HashMap<String, Window>>,
    failures: Mutex<HashMap<String, Failures>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(PER_ADDRESS.attempts)
    }
}

impl Limits {
    /// Limits allowing `per_address` attempts a minute from one address.
    pub fn new(per_address: u32) -> Limits {
        Limits {
            per_address: Rate {
                attempts: per_address,
                per: MINUTE,
            },
            windows: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// Counts an attempt on `/v1/auth/{route}` from `addr` for `account`; 429 when either is over
    /// its rate, or the account is locked after failed sign-ins.
    pub fn attempt(
        &self,
        route: &str,
        addr: Option<IpAddr>,
        account: &str,
    ) -> Result<(), ApiError> {
        let now = Instant::now();
        if let Some(until) = self.locked_until(account, now) {
            return Err(ApiError::TooManyRequests(seconds(until - now)));
        }
        let addr = addr.map_or_else(|| "unknown".to_string(), |a| a.to_string());
        self.count(format!("{route} addr {addr}"), self.per_address, now)?;
        self.count(format!("{route} account {account}"), PER_ACCOUNT, now)
    }

    fn count(&self, key: String, rate: Rate, now: Instant) -> Result<(), ApiError> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, w| now - w.started < MINUTE);
        }
        let w = windows.entry(key).or_insert(Window {
            started: now,
            count: 0,
        });
        if now - w.started >= rate.per {
            *w = Window {
                started: now,
                count: 0,
            };
        }
        w.count += 1;
        if w.count > rate.attempts {
            return Err(ApiError::TooManyRequests(seconds(
                rate.per - (now - w.started),
            )));
        }
        Ok(())
    }

    fn locked_until(&self, account: &str, now: Instant) -> Option<Instant> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures
            .get(account)
            .and_then(|f| f.locked_until)
            .filter(|until| *until > now)
    }

    /// A failed sign-in: past the free ones, the account is locked for a doubling while.
    pub fn failed(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            let now = Instant::now();
            failures.retain(|_, f| f.locked_until.is_some_and(|u| u > now));
        }
        let f = failures.entry(account.to_string()).or_insert(Failures {
            count: 0,
            locked_until: None,
        });
        f.count += 1;
        if f.count >= FREE_FAILURES {
            let doublings = (f.count - FREE_FAILURES).min(10);
            let lock = (Duration::from_secs(1) * 2u32.pow(doublings)).min(MAX_LOCK);
            f.locked_until = Some(Instant::now() + lock);
        }
    }

    pub fn succeeded(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(account);
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_over_its_rate_waits_and_others_do_not() {
        let limits = Limits::default();
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..PER_ACCOUNT.attempts {
            limits.attempt("login", addr, "a@x.example").unwrap();
        }
        let err = limits.attempt("login", addr, "a@x.example").unwrap_err();
        assert!(matches!(err, ApiError::TooManyRequests(s) if (1..=60).contains(&s)));
        limits.attempt("login", addr, "b@x.example").unwrap();
        limits.attempt("refresh", addr, "a@x.example").unwrap();
    }

    #[test]
    fn an_address_over_its_rate_waits() {
        let limits = Limits::default();
        let addr = Some(IpAddr::from([10, 0, 0, 2]));
        for n in 0..PER_ADDRESS.attempts {
            limits
                .attempt("enroll", addr, &format!("code {n}"))
                .unwrap();
        }
        assert!(limits.attempt("enroll", addr, "another code").is_err());
        limits
            .attempt("enroll", Some(IpAddr::from([10, 0, 0, 3])), "another code")
            .unwrap();
    }

    #[test]
    fn failed_sign_ins_lock_the_account_for_longer_each_time() {
        let limits = Limits::default();
        for _ in 0..FREE_FAILURES - 1 {
            limits.failed("a@x.example");
        }
        limits.attempt("login", None, "a@x.example").unwrap();
        limits.failed("a@x.example");
        let first = limits.locked_until("a@x.example", Instant::now()).unwrap();
        limits.failed("a@x.example");
        let second = limits.locked_until("a@x.example", Instant::now()).unwrap();
        assert!(second > first);
        assert!(limits.attempt("login", None, "a@x.example").is_err());
        limits.succeeded("a@x.example");
        limits.attempt("login", None, "a@x.example").unwrap();
    }
}
