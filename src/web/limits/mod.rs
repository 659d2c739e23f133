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

mod bounded;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;
use bounded::{Aging, Bounded};

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
    attempts: crate::config::AUTH_ATTEMPTS_PER_MINUTE,
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
