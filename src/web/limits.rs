//! Limits on the ways in. Sign-in is limited per client address and per account, and failures
//! lock out only who fails: a client address (for that account), or, after many from everywhere,
//! every client the account has never signed in from. A device the account signed in from before
//! (its device cookie, `auth::Keys::device_token`) is never locked by others' failures, only by its
//! own. Enrollment codes and refresh tokens are limited by the secret guessed, from any address,
//! so that a flood from a shared address (a carrier's NAT) can't stop a phone with a valid one.
//!
//! Client addresses are keyed whole for IPv4 and by their /64 for IPv6 (a host gets a /64 and may
//! pick any address in it). Kept in memory, per instance: a restart forgets them, and with several
//! instances each counts on its own. Every map is bounded by size and by age, so no stream of
//! requests can grow it without end.
//!
//! Hand-written rather than the `governor` crate: its keyed limiter covers the rates, but not
//! failures in a row that lock one client out for a doubling while, and its store has no bound on
//! its size (it inserts every new key before measuring; `retain_recent` only prunes by age).

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
/// Per account (an email) from one address or device, and per secret (an enrollment code, a
/// refresh token) from anywhere. Sign-ins are counted per address too, so that a stranger's
/// attempts can't use up the real user's.
pub const PER_ACCOUNT: Rate = Rate {
    attempts: 10,
    per: MINUTE,
};
/// Failed sign-ins from one address, whatever the account, before that address waits for the
/// window to end: one address spraying a password over many accounts is slowed too. A device the
/// account signed in from before doesn't count against it.
pub const FAILED_SIGN_INS_PER_ADDRESS: Rate = Rate {
    attempts: 10,
    per: MINUTE,
};
/// Failed sign-ins in a row one client address (or one known device) may have for an account
/// before each further one locks that address (or device) out of that account for a while,
/// doubling from a second up to 15 minutes. The lock is checked before the password: the failing
/// client itself waits.
pub const FREE_FAILURES: u32 = 5;
/// Failed sign-ins for an account from all addresses together (not from its known devices)
/// before the account is locked, for a doubling while, against every client but its known
/// devices: a guess spread over many addresses. That lock is checked before the password, so the
/// right password and a wrong one get the same 429. These failures are forgotten a day after the
/// last one, not at the next success, so that a guesser can't start over.
pub const FREE_SHARED_FAILURES: u32 = 20;
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
const SHARED_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);
/// The most keys each map holds. Keys are short (credentials are length-checked before they get
/// here), so a full map is a few megabytes.
pub const MAX_KEYS: usize = 50_000;
/// How often maps drop what has aged out, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Who is signing in, as the limits know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A device the account signed in from before: the id its device cookie names.
    Device(String),
    /// Anyone else, known by client address.
    Address(Option<IpAddr>),
}

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
    /// How long the failures are remembered after the last one (and after the lock).
    memory: Duration,
}

/// What a map's entry is worth keeping for.
trait Aging {
    /// Which entries go first when the map is full: the least (the fewest failures, then the
    /// oldest), so that a flood of new keys can't push out an account's many failures.
    fn rank(&self) -> (u32, Instant);
    /// Whether it no longer matters at `now`.
    fn expired(&self, now: Instant) -> bool;
}

impl Aging for Window {
    fn rank(&self) -> (u32, Instant) {
        (0, self.started)
    }
    fn expired(&self, now: Instant) -> bool {
        now - self.started >= self.per
    }
}

impl Aging for Failures {
    fn rank(&self) -> (u32, Instant) {
        (self.count, self.last)
    }
    // Failures are forgotten once the lock is over and none came for a while.
    fn expired(&self, now: Instant) -> bool {
        self.locked_until.is_none_or(|u| u <= now) && now - self.last >= self.memory
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
                self.evict_least();
            }
        }
        self.map.entry(key).or_insert_with(new)
    }

    /// Drops the least-ranked eighth (at least one), so a full map isn't scanned on every insert.
    fn evict_least(&mut self) {
        let mut ranks: Vec<(u32, Instant)> = self.map.values().map(Aging::rank).collect();
        let n = (ranks.len() / 8).max(1).min(ranks.len());
        let (_, cut, _) = ranks.select_nth_unstable(n - 1);
        let cut = *cut;
        let mut left = n;
        self.map.retain(|_, v| {
            let drop = left > 0 && v.rank() <= cut;
            left -= usize::from(drop);
            !drop
        });
    }
}

#[derive(Debug)]
pub struct Limits {
    per_address: Rate,
    windows: Mutex<Bounded<Window>>,
    /// Failures in a row per account and address, or account and known device.
    own: Mutex<Bounded<Failures>>,
    /// Failures per account from every client but its known devices.
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

fn too_many(wait: Duration) -> ApiError {
    ApiError::TooManyRequests(seconds(wait))
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

    /// Counts an attempt on `route` from `addr` for `account` (a password change, a reset token);
    /// 429 when either is over its rate.
    pub fn attempt(
        &self,
        route: &str,
        addr: Option<IpAddr>,
        account: &str,
    ) -> Result<(), ApiError> {
        let now = Instant::now();
        let addr = address(addr);
        self.count(format!("{route} addr {addr}"), self.per_address, now)?;
        self.count(
            format!("{route} account {account} {addr}"),
            PER_ACCOUNT,
            now,
        )
    }

    /// Before a sign-in's password is checked: 429 when the signer is over a rate or locked out of
    /// the account. A known device answers only for its own failures; anyone else also for their
    /// address's, and for everyone's failures on the account (the right password then gets the
    /// same 429 as a wrong one).
    pub fn sign_in(&self, account: &str, who: &Signer) -> Result<(), ApiError> {
        self.sign_in_at(account, who, Instant::now())
    }

    fn sign_in_at(&self, account: &str, who: &Signer, now: Instant) -> Result<(), ApiError> {
        match who {
            Signer::Device(device) => {
                if let Some(until) = locked(&self.own, &format!("{account} device {device}"), now) {
                    return Err(too_many(until - now));
                }
                self.count(format!("login device {device} {account}"), PER_ACCOUNT, now)
            }
            Signer::Address(addr) => {
                let addr = address(*addr);
                let own = locked(&self.own, &format!("{account} addr {addr}"), now);
                let shared = locked(&self.shared, account, now);
                if let Some(until) = own.max(shared) {
                    return Err(too_many(until - now));
                }
                self.over(
                    &format!("login failed addr {addr}"),
                    FAILED_SIGN_INS_PER_ADDRESS,
                    now,
                )?;
                self.count(format!("login addr {addr}"), self.per_address, now)?;
                self.count(format!("login account {account} {addr}"), PER_ACCOUNT, now)
            }
        }
    }

    /// A failed sign-in: past the free ones, the signer is locked out of the account for a
    /// doubling while; past many more from all addresses, every client but the known devices is.
    pub fn sign_in_failed(&self, account: &str, who: &Signer) {
        self.sign_in_failed_at(account, who, Instant::now());
    }

    fn sign_in_failed_at(&self, account: &str, who: &Signer, now: Instant) {
        match who {
            Signer::Device(device) => {
                let key = format!("{account} device {device}");
                fail(&self.own, key, FREE_FAILURES, MAX_LOCK, now);
            }
            Signer::Address(addr) => {
                let addr = address(*addr);
                let key = format!("{account} addr {addr}");
                fail(&self.own, key, FREE_FAILURES, MAX_LOCK, now);
                let shared = account.to_string();
                fail(
                    &self.shared,
                    shared,
                    FREE_SHARED_FAILURES,
                    SHARED_MEMORY,
                    now,
                );
                // Counted, not refused: the window is checked before the next password.
                let _ = self.count(
                    format!("login failed addr {addr}"),
                    FAILED_SIGN_INS_PER_ADDRESS,
                    now,
                );
            }
        }
    }

    /// A sign-in that succeeded ends the signer's own failures in a row. Everyone's failures on
    /// the account stay until they age out: a guesser can't start over each time the user signs in.
    pub fn sign_in_succeeded(&self, account: &str, who: &Signer) {
        let key = match who {
            Signer::Device(device) => format!("{account} device {device}"),
            Signer::Address(addr) => format!("{account} addr {}", address(*addr)),
        };
        lock(&self.own).map.remove(&key);
    }

    /// Before an enrollment code or refresh token (`secret`, its hash) is looked up on `route`:
    /// 429 when that secret was tried too often, from wherever. The address it comes from is not
    /// asked: a valid secret works whatever its neighbours behind the same address send.
    pub fn guess(&self, route: &str, secret: &str) -> Result<(), ApiError> {
        self.count(
            format!("{route} secret {secret}"),
            PER_ACCOUNT,
            Instant::now(),
        )
    }

    /// After a secret on `route` from `addr` was not found: once the address has had its rate of
    /// failures, further ones are answered 429 (a client told to wait) rather than 401. A valid
    /// secret is never refused for its address.
    pub fn wrong_guess(&self, route: &str, addr: Option<IpAddr>) -> Option<ApiError> {
        let key = format!("{route} failed addr {}", address(addr));
        self.count(key, self.per_address, Instant::now()).err()
    }

    /// Counts one in `key`'s window; 429 past `rate`.
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
            return Err(too_many(rate.per - (now - w.started)));
        }
        Ok(())
    }

    /// 429 when `key`'s window already holds `rate`'s attempts; counts nothing.
    fn over(&self, key: &str, rate: Rate, now: Instant) -> Result<(), ApiError> {
        match lock(&self.windows).map.get(key) {
            Some(w) if !w.expired(now) && w.count >= rate.attempts => {
                Err(too_many(rate.per - (now - w.started)))
            }
            _ => Ok(()),
        }
    }

    /// How many keys the maps hold, all together.
    pub fn len(&self) -> usize {
        lock(&self.windows).map.len() + lock(&self.own).map.len() + lock(&self.shared).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How an address is keyed: an IPv4 address whole (an IPv4-mapped IPv6 one as IPv4), an IPv6
/// address by its /64.
fn address(addr: Option<IpAddr>) -> String {
    match addr.map(|a| a.to_canonical()) {
        None => "unknown".to_string(),
        Some(IpAddr::V4(a)) => a.to_string(),
        Some(IpAddr::V6(a)) => {
            let net = std::net::Ipv6Addr::from(u128::from(a) >> 64 << 64);
            format!("{net}/64")
        }
    }
}

fn locked(failures: &Mutex<Bounded<Failures>>, key: &str, now: Instant) -> Option<Instant> {
    lock(failures)
        .map
        .get(key)
        .and_then(|f| f.locked_until)
        .filter(|until| *until > now)
}

fn fail(
    failures: &Mutex<Bounded<Failures>>,
    key: String,
    free: u32,
    memory: Duration,
    now: Instant,
) {
    let mut failures = lock(failures);
    let f = failures.entry(key, now, || Failures {
        count: 0,
        last: now,
        locked_until: None,
        memory,
    });
    if f.expired(now) {
        f.count = 0;
    }
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
    const ACCOUNT: &str = "a@x.example";

    fn from(addr: Option<IpAddr>) -> Signer {
        Signer::Address(addr)
    }

    #[test]
    fn an_account_over_its_rate_waits_and_others_do_not() {
        let limits = Limits::default();
        for _ in 0..PER_ACCOUNT.attempts {
            limits.sign_in(ACCOUNT, &from(A)).unwrap();
        }
        let err = limits.sign_in(ACCOUNT, &from(A)).unwrap_err();
        assert!(matches!(err, ApiError::TooManyRequests(s) if (1..=60).contains(&s)));
        limits.sign_in("b@x.example", &from(A)).unwrap();
        limits.attempt("password", A, ACCOUNT).unwrap();
        // The same account from another address, or from a known device, has attempts of its own.
        limits.sign_in(ACCOUNT, &from(B)).unwrap();
        limits
            .sign_in(ACCOUNT, &Signer::Device("d1".into()))
            .unwrap();
    }

    #[test]
    fn an_address_over_its_rate_waits() {
        let limits = Limits::default();
        for n in 0..PER_ADDRESS.attempts {
            limits.sign_in(&format!("{n}@x.example"), &from(A)).unwrap();
        }
        assert!(limits.sign_in("another@x.example", &from(A)).is_err());
        limits.sign_in("another@x.example", &from(B)).unwrap();
    }

    #[test]
    fn ipv6_addresses_are_keyed_by_their_64() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(address(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            address(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(address(ip("::ffff:192.0.2.7")), "192.0.2.7");
        // A client rotating through its /64 is one client to the limits.
        let limits = Limits::default();
        for n in 0..FREE_FAILURES {
            let addr = ip(&format!("2001:db8:1:2::{:x}", n + 1));
            limits.sign_in(ACCOUNT, &from(addr)).unwrap();
            limits.sign_in_failed(ACCOUNT, &from(addr));
        }
        assert!(
            limits
                .sign_in(ACCOUNT, &from(ip("2001:db8:1:2::ffff")))
                .is_err()
        );
        // The next /64 is another client.
        limits
            .sign_in(ACCOUNT, &from(ip("2001:db8:1:3::1")))
            .unwrap();
    }

    #[test]
    fn failed_sign_ins_lock_the_failing_address_for_longer_each_time() {
        let limits = Limits::default();
        for _ in 0..FREE_FAILURES - 1 {
            limits.sign_in_failed(ACCOUNT, &from(A));
        }
        limits.sign_in(ACCOUNT, &from(A)).unwrap();
        limits.sign_in_failed(ACCOUNT, &from(A));
        let key = "a@x.example addr 10.0.0.1";
        let first = locked(&limits.own, key, Instant::now()).unwrap();
        limits.sign_in_failed(ACCOUNT, &from(A));
        let second = locked(&limits.own, key, Instant::now()).unwrap();
        assert!(second > first);
        assert!(limits.sign_in(ACCOUNT, &from(A)).is_err());
        // Another address is not locked out, and nothing is locked for everyone yet.
        limits.sign_in(ACCOUNT, &from(B)).unwrap();
        assert!(locked(&limits.shared, ACCOUNT, Instant::now()).is_none());
        limits.sign_in_succeeded(ACCOUNT, &from(A));
        limits.sign_in(ACCOUNT, &from(A)).unwrap();
    }

    #[test]
    fn failures_from_many_addresses_lock_every_client_but_the_known_devices() {
        let limits = Limits::default();
        let device = Signer::Device("d1".into());
        for n in 0..FREE_SHARED_FAILURES - 1 {
            limits.sign_in_failed(ACCOUNT, &from(Some(IpAddr::from([10, 1, 0, n as u8]))));
        }
        limits.sign_in(ACCOUNT, &from(A)).unwrap();
        limits.sign_in_failed(ACCOUNT, &from(Some(IpAddr::from([10, 2, 0, 0]))));
        // Refused before the password: the right one and a wrong one get the same 429.
        assert!(limits.sign_in(ACCOUNT, &from(A)).is_err());
        assert!(limits.sign_in(ACCOUNT, &from(B)).is_err());
        // The owner's known device is not.
        limits.sign_in(ACCOUNT, &device).unwrap();
        limits.sign_in_succeeded(ACCOUNT, &device);
        // And its success doesn't give a guesser a fresh start.
        assert!(limits.sign_in(ACCOUNT, &from(A)).is_err());
        // A known device's own failures lock only it.
        for _ in 0..FREE_FAILURES {
            limits.sign_in_failed(ACCOUNT, &device);
        }
        assert!(limits.sign_in(ACCOUNT, &device).is_err());
        limits
            .sign_in(ACCOUNT, &Signer::Device("d2".into()))
            .unwrap();
    }

    #[test]
    fn one_address_spraying_many_accounts_is_slowed() {
        let limits = Limits::default();
        let now = Instant::now();
        for n in 0..FAILED_SIGN_INS_PER_ADDRESS.attempts {
            let account = format!("{n}@x.example");
            limits.sign_in_at(&account, &from(A), now).unwrap();
            limits.sign_in_failed_at(&account, &from(A), now);
        }
        assert!(limits.sign_in_at("new@x.example", &from(A), now).is_err());
        limits.sign_in_at("new@x.example", &from(B), now).unwrap();
        let later = now + MINUTE;
        limits.sign_in_at("new@x.example", &from(A), later).unwrap();
    }

    /// The attacker of the issue: 1,000 addresses guessing one account's password, each address
    /// trying as often as its own limits allow (one attempt per address every 100 ms in turn, 10
    /// a second in all). Prints the password checks it gets.
    #[test]
    fn distributed_guessing_gets_a_few_checks_an_hour() {
        let limits = Limits::default();
        let start = Instant::now();
        let tick = Duration::from_millis(100);
        let addresses: Vec<Option<IpAddr>> = (0..1_000u32)
            .map(|n| Some(IpAddr::from((0x0a00_0000 + n).to_be_bytes())))
            .collect();
        let mut checks: Vec<Duration> = vec![];
        let day = 24 * 60 * 60 * 10;
        for t in 0..day {
            let now = start + tick * t;
            let who = from(addresses[t as usize % addresses.len()]);
            if limits.sign_in_at(ACCOUNT, &who, now).is_ok() {
                checks.push(now - start);
                limits.sign_in_failed_at(ACCOUNT, &who, now);
            }
        }
        let within = |d: Duration| checks.iter().filter(|c| **c < d).count();
        let (minute, hour, all) = (within(MINUTE), within(MINUTE * 60), checks.len());
        let last_hours = (all - within(MINUTE * 60 * 12)) as f64 / (12.0 * 60.0);
        eprintln!(
            "1,000 addresses, one account: {minute} password checks in the first minute, \
             {hour} in the first hour, {all} in 24 hours; {last_hours:.3} a minute after that"
        );
        assert!(minute <= 26, "{minute}");
        assert!(hour <= 35, "{hour}");
        assert!(all <= 30 + 24 * 4, "{all}");
        // A known device of the owner still signs in.
        limits
            .sign_in_at(ACCOUNT, &Signer::Device("d1".into()), start + tick * day)
            .unwrap();
    }

    #[test]
    fn a_secret_is_limited_by_itself_and_a_flood_does_not_stop_valid_ones() {
        let limits = Limits::default();
        for _ in 0..PER_ACCOUNT.attempts {
            limits.guess("refresh", "hash-1").unwrap();
        }
        assert!(limits.guess("refresh", "hash-1").is_err());
        // A flood of junk from one address: each junk secret is tried once.
        for n in 0..10 * PER_ADDRESS.attempts {
            limits.guess("refresh", &format!("junk {n}")).unwrap();
            let _ = limits.wrong_guess("refresh", A);
        }
        assert!(limits.wrong_guess("refresh", A).is_some());
        // A valid token from the same address is still looked up.
        limits.guess("refresh", "hash-2").unwrap();
    }

    #[test]
    fn maps_are_bounded_by_size() {
        let limits = Limits::with_capacity(1_000_000, 100);
        let now = Instant::now();
        for n in 0..1_000u32 {
            let addr = Some(IpAddr::from(n.to_be_bytes()));
            limits.sign_in_at("a", &from(addr), now).unwrap();
            limits.sign_in_failed_at(&format!("{n}@x.example"), &from(addr), now);
        }
        assert!(limits.len() <= 3 * 100, "{} keys", limits.len());
        // Just under the cap, nothing is evicted.
        let limits = Limits::with_capacity(1_000_000, 100);
        for n in 0..49u32 {
            let addr = Some(IpAddr::from(n.to_be_bytes()));
            limits.sign_in_at("a", &from(addr), now).unwrap();
        }
        assert_eq!(limits.len(), 98);
    }

    #[test]
    fn a_flood_of_new_keys_evicts_the_fewest_failures_first() {
        let limits = Limits::with_capacity(1_000_000, 100);
        let now = Instant::now();
        for _ in 0..FREE_SHARED_FAILURES {
            limits.sign_in_failed_at(ACCOUNT, &from(A), now);
        }
        for n in 0..1_000u32 {
            limits.sign_in_failed_at(&format!("{n}@x.example"), &from(B), now + MINUTE);
        }
        assert!(locked(&limits.shared, ACCOUNT, now).is_some());
    }

    #[test]
    fn maps_are_bounded_by_age() {
        let limits = Limits::default();
        let start = Instant::now();
        for n in 0..500u32 {
            let addr = Some(IpAddr::from(n.to_be_bytes()));
            limits.sign_in_at("a", &from(addr), start).unwrap();
        }
        assert_eq!(limits.len(), 1_000);
        // Not a minute later, the windows still count.
        limits
            .sign_in_at("a", &from(A), start + Duration::from_secs(59))
            .unwrap();
        assert_eq!(limits.len(), 1_002);
        // Past the minute and the sweep interval, the next attempt sweeps out the ended windows.
        limits
            .sign_in_at("a", &from(B), start + Duration::from_secs(70))
            .unwrap();
        assert_eq!(limits.len(), 4);
    }
}
