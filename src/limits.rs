//! Limits on the ways in: sign-in, enrollment and refresh are rate-limited per client address and
//! per account and address, and a client that keeps failing to sign in to an account is slowed
//! down for that account only. Kept in memory, per instance: a restart forgets them, and with
//! several instances each counts on its own. Every map is bounded by size and by age, so no stream
//! of requests can grow it without end.
//!
//! Hand-written rather than the `governor` crate: its keyed limiter covers the two rates, but not
//! failures in a row that lock one client out for a doubling while and end with a success, and its
//! store has no bound on its size (it inserts every new key before measuring; `retain_recent` only
//! prunes by age).

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
/// Per account (an email, an enrollment code, a refresh token) from one address. Counted per
/// address too, so that a stranger's attempts can't use up the real user's.
pub const PER_ACCOUNT: Rate = Rate {
    attempts: 10,
    per: MINUTE,
};
/// Failed sign-ins in a row one client address may have for an account before each further one
/// locks that address out of that account for a while, doubling from a second up to 15 minutes.
/// The lock is checked before the password: the failing client itself waits.
pub const FREE_FAILURES: u32 = 5;
/// Failed sign-ins in a row for an account from all addresses together before the account is
/// locked against wrong passwords (a guess spread over many addresses). That lock is applied
/// after the password is checked, so the right password still signs in.
pub const FREE_SHARED_FAILURES: u32 = 20;
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// The most keys each map holds. Keys are short (credentials are length-checked before they get
/// here), so a full map is a few megabytes.
pub const MAX_KEYS: usize = 50_000;
/// How often maps drop what has aged out, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Window {
    started: Instant,
    per: Duration,
    count: u32,
}

#[derive(Debug)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// What a map's entry is worth keeping for.
trait Aging {
    /// When it was last changed (the oldest go first when the map is full).
    fn touched(&self) -> Instant;
    /// Whether it no longer matters at `now`.
    fn expired(&self, now: Instant) -> bool;
}

impl Aging for Window {
    fn touched(&self) -> Instant {
        self.started
    }
    fn expired(&self, now: Instant) -> bool {
        now - self.started >= self.per
    }
}

impl Aging for Failures {
    fn touched(&self) -> Instant {
        self.last
    }
    // Failures are forgotten once the lock is over and none came for the longest lock.
    fn expired(&self, now: Instant) -> bool {
        self.locked_until.is_none_or(|u| u <= now) && now - self.last >= MAX_LOCK
    }
}

/// A map bounded by size (`cap` keys) and by age (what expired goes at the next sweep).
#[derive(Debug)]
struct Bounded<V> {
    map: HashMap<String, V>,
    cap: usize,
    swept: Option<Instant>,
}

impl<V: Aging> Bounded<V> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            cap,
            swept: None,
        }
    }

    /// The entry for `key`, made by `new` if there is none, after making room for it.
    fn entry(&mut self, key: String, now: Instant, new: impl FnOnce() -> V) -> &mut V {
        if self.swept.is_none_or(|s| now - s >= SWEEP_EVERY) {
            self.map.retain(|_, v| !v.expired(now));
            self.swept = Some(now);
        }
        if !self.map.contains_key(&key) && self.map.len() >= self.cap {
            self.map.retain(|_, v| !v.expired(now));
            if self.map.len() >= self.cap {
                self.evict_oldest();
            }
        }
        self.map.entry(key).or_insert_with(new)
    }

    /// Drops the oldest eighth (at least one), so a full map isn't scanned on every insert.
    fn evict_oldest(&mut self) {
        let mut times: Vec<Instant> = self.map.values().map(Aging::touched).collect();
        let n = (times.len() / 8).max(1).min(times.len());
        let (_, cut, _) = times.select_nth_unstable(n - 1);
        let cut = *cut;
        let mut left = n;
        self.map.retain(|_, v| {
            let drop = left > 0 && v.touched() <= cut;
            left -= usize::from(drop);
            !drop
        });
    }
}

#[derive(Debug)]
pub struct Limits {
    per_address: Rate,
    windows: Mutex<Bounded<Window>>,
    /// Failures in a row per account and address.
    own: Mutex<Bounded<Failures>>,
    /// Failures in a row per account, from any address.
    shared: Mutex<Bounded<Failures>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(PER_ADDRESS.attempts)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Limits {
    /// Limits allowing `per_address` attempts a minute from one address.
    pub fn new(per_address: u32) -> Limits {
        Limits::with_capacity(per_address, MAX_KEYS)
    }

    /// As `new`, with at most `cap` keys per map.
    pub fn with_capacity(per_address: u32, cap: usize) -> Limits {
        Limits {
            per_address: Rate {
                attempts: per_address,
                per: MINUTE,
            },
            windows: Mutex::new(Bounded::new(cap)),
            own: Mutex::new(Bounded::new(cap)),
            shared: Mutex::new(Bounded::new(cap)),
        }
    }

    /// Counts an attempt on `/v1/auth/{route}` from `addr` for `account`; 429 when either is over
    /// its rate, or this address is locked out of the account after failed sign-ins.
    pub fn attempt(
        &self,
        route: &str,
        addr: Option<IpAddr>,
        account: &str,
    ) -> Result<(), ApiError> {
        self.attempt_at(route, addr, account, Instant::now())
    }

    fn attempt_at(
        &self,
        route: &str,
        addr: Option<IpAddr>,
        account: &str,
        now: Instant,
    ) -> Result<(), ApiError> {
        let addr = address(addr);
        if let Some(until) = locked(&self.own, &format!("{account} {addr}"), now) {
            return Err(ApiError::TooManyRequests(seconds(until - now)));
        }
        self.count(format!("{route} addr {addr}"), self.per_address, now)?;
        self.count(
            format!("{route} account {account} {addr}"),
            PER_ACCOUNT,
            now,
        )
    }

    fn count(&self, key: String, rate: Rate, now: Instant) -> Result<(), ApiError> {
        let mut windows = lock(&self.windows);
        let w = windows.entry(key, now, || Window {
            started: now,
            per: rate.per,
            count: 0,
        });
        if w.expired(now) {
            *w = Window {
                started: now,
                per: rate.per,
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

    /// A failed sign-in from `addr`: past the free ones, that address is locked out of the account
    /// for a doubling while; past many more from all addresses, wrong passwords are.
    pub fn failed(&self, account: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let own = format!("{account} {}", address(addr));
        fail(&self.own, own, FREE_FAILURES, now);
        fail(&self.shared, account.to_string(), FREE_SHARED_FAILURES, now);
    }

    /// Until when wrong passwords for the account are refused, after failures from everywhere.
    /// Asked only once the password was found wrong: the right one passes this lock.
    pub fn locked_by_others(&self, account: &str) -> Option<ApiError> {
        let now = Instant::now();
        locked(&self.shared, account, now).map(|u| ApiError::TooManyRequests(seconds(u - now)))
    }

    pub fn succeeded(&self, account: &str, addr: Option<IpAddr>) {
        lock(&self.own)
            .map
            .remove(&format!("{account} {}", address(addr)));
        lock(&self.shared).map.remove(account);
    }

    /// How many keys the maps hold, all together.
    pub fn len(&self) -> usize {
        lock(&self.windows).map.len() + lock(&self.own).map.len() + lock(&self.shared).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn address(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "unknown".to_string(), |a| a.to_string())
}

fn locked(failures: &Mutex<Bounded<Failures>>, key: &str, now: Instant) -> Option<Instant> {
    lock(failures)
        .map
        .get(key)
        .and_then(|f| f.locked_until)
        .filter(|until| *until > now)
}

fn fail(failures: &Mutex<Bounded<Failures>>, key: String, free: u32, now: Instant) {
    let mut failures = lock(failures);
    let f = failures.entry(key, now, || Failures {
        count: 0,
        last: now,
        locked_until: None,
    });
    f.count += 1;
    f.last = now;
    if f.count >= free {
        let doublings = (f.count - free).min(10);
        let lock = (Duration::from_secs(1) * 2u32.pow(doublings)).min(MAX_LOCK);
        f.locked_until = Some(now + lock);
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9)));

    #[test]
    fn an_account_over_its_rate_waits_and_others_do_not() {
        let limits = Limits::default();
        for _ in 0..PER_ACCOUNT.attempts {
            limits.attempt("login", A, "a@x.example").unwrap();
        }
        let err = limits.attempt("login", A, "a@x.example").unwrap_err();
        assert!(matches!(err, ApiError::TooManyRequests(s) if (1..=60).contains(&s)));
        limits.attempt("login", A, "b@x.example").unwrap();
        limits.attempt("refresh", A, "a@x.example").unwrap();
        // The same account from another address has attempts of its own.
        limits.attempt("login", B, "a@x.example").unwrap();
    }

    #[test]
    fn an_address_over_its_rate_waits() {
        let limits = Limits::default();
        for n in 0..PER_ADDRESS.attempts {
            limits.attempt("enroll", A, &format!("code {n}")).unwrap();
        }
        assert!(limits.attempt("enroll", A, "another code").is_err());
        limits.attempt("enroll", B, "another code").unwrap();
    }

    #[test]
    fn failed_sign_ins_lock_the_failing_address_for_longer_each_time() {
        let limits = Limits::default();
        for _ in 0..FREE_FAILURES - 1 {
            limits.failed("a@x.example", A);
        }
        limits.attempt("login", A, "a@x.example").unwrap();
        limits.failed("a@x.example", A);
        let key = "a@x.example 10.0.0.1";
        let first = locked(&limits.own, key, Instant::now()).unwrap();
        limits.failed("a@x.example", A);
        let second = locked(&limits.own, key, Instant::now()).unwrap();
        assert!(second > first);
        assert!(limits.attempt("login", A, "a@x.example").is_err());
        // Another address is not locked out, and nothing is locked for everyone yet.
        limits.attempt("login", B, "a@x.example").unwrap();
        assert!(limits.locked_by_others("a@x.example").is_none());
        limits.succeeded("a@x.example", A);
        limits.attempt("login", A, "a@x.example").unwrap();
    }

    #[test]
    fn failures_from_many_addresses_lock_only_wrong_passwords() {
        let limits = Limits::default();
        for n in 0..FREE_SHARED_FAILURES - 1 {
            limits.failed("a@x.example", Some(IpAddr::from([10, 1, 0, n as u8])));
        }
        assert!(limits.locked_by_others("a@x.example").is_none());
        limits.failed("a@x.example", Some(IpAddr::from([10, 2, 0, 0])));
        assert!(limits.locked_by_others("a@x.example").is_some());
        // Checked before the password, only the address's own lock counts: this one has none.
        limits.attempt("login", A, "a@x.example").unwrap();
    }

    #[test]
    fn maps_are_bounded_by_size() {
        let limits = Limits::with_capacity(1_000_000, 100);
        let now = Instant::now();
        for n in 0..1_000u32 {
            let addr = Some(IpAddr::from(n.to_be_bytes()));
            limits.attempt_at("login", addr, "a", now).unwrap();
            limits.failed(&format!("{n}@x.example"), addr);
        }
        assert!(limits.len() <= 3 * 100, "{} keys", limits.len());
        // Just under the cap, nothing is evicted.
        let limits = Limits::with_capacity(1_000_000, 100);
        for n in 0..49u32 {
            let addr = Some(IpAddr::from(n.to_be_bytes()));
            limits.attempt_at("login", addr, "a", now).unwrap();
        }
        assert_eq!(limits.len(), 98);
    }

    #[test]
    fn maps_are_bounded_by_age() {
        let limits = Limits::default();
        let start = Instant::now();
        for n in 0..500u32 {
            let addr = Some(IpAddr::from(n.to_be_bytes()));
            limits.attempt_at("login", addr, "a", start).unwrap();
        }
        assert_eq!(limits.len(), 1_000);
        // Not a minute later, the windows still count.
        limits
            .attempt_at("login", A, "a", start + Duration::from_secs(59))
            .unwrap();
        assert_eq!(limits.len(), 1_002);
        // Past the minute and the sweep interval, the next attempt sweeps out the ended windows.
        limits
            .attempt_at("login", B, "a", start + Duration::from_secs(70))
            .unwrap();
        assert_eq!(limits.len(), 4);
    }
}
