//! The limits' unit tests.

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
