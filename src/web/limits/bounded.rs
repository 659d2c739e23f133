//! A map of the limits' entries, bounded by size and by age, so that no stream of requests can
//! grow it without end.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often maps drop what has aged out, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// What a map's entry is worth keeping for.
pub(super) trait Aging {
    /// Which entries go first when the map is full: the least (the fewest failures, then the
    /// oldest), so that a flood of new keys can't push out an account's many failures.
    fn rank(&self) -> (u32, Instant);
    /// Whether it no longer matters at `now`.
    fn expired(&self, now: Instant) -> bool;
}

/// A map bounded by size (`cap` keys) and by age (what expired goes at the next sweep).
#[derive(Debug)]
pub(super) struct Bounded<V> {
    pub(super) map: HashMap<String, V>,
    cap: usize,
    swept: Option<Instant>,
}

impl<V: Aging> Bounded<V> {
    pub(super) fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            cap,
            swept: None,
        }
    }

    /// The entry for `key`, made by `new` if there is none, after making room for it.
    pub(super) fn entry(&mut self, key: String, now: Instant, new: impl FnOnce() -> V) -> &mut V {
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
