//! What a view makes of each treatment in a protocol's recent window, kept between requests and
//! brought up to date from the treatments changed since (`State::touched`), so a request costs the
//! changes and the answer, not a visit to every treatment in the window. The dashboard and the
//! patient list ask for every treatment still in follow-up: tens of thousands at a hundred million
//! scores, of which only the few that checked in change between two requests.

use std::any::{Any, TypeId};

use super::*;

/// How many changed treatments the store remembers for its memos; past that it forgets them and
/// every memo is made again once.
pub(super) const TOUCHED: usize = 1 << 18;

/// One view's entries for one protocol: valid for one `key` and `epoch`, and up to date with the
/// first `seen` of the store's touched treatments.
struct Memo<K, T> {
    key: K,
    epoch: u64,
    seen: usize,
    entries: HashMap<Uuid, T>,
}

/// Every view's memo, by protocol and by the view's types.
pub(super) type Memos = Mutex<HashMap<(Uuid, TypeId), Box<dyn Any + Send>>>;

impl Store {
    /// `make` of each of a protocol's treatments performed between `from` and `to` (inclusive),
    /// with the daily scores of `codes`, handed to `read`. `make`'s answer for a treatment is kept
    /// while neither the treatment nor `key` changes, so `key` must hold everything `make` reads
    /// besides the treatment (the window included).
    pub fn with_window<K, T, R>(
        &self,
        protocol_id: Uuid,
        (from, to): (NaiveDate, NaiveDate),
        codes: &[String],
        key: K,
        make: impl Fn(&TreatmentSeries<'_>) -> T,
        read: impl FnOnce(&mut dyn Iterator<Item = &T>) -> R,
    ) -> R
    where
        K: PartialEq + Send + 'static,
        T: Send + 'static,
    {
        let state = self.read();
        let indices = state.indices(codes);
        let make = |t: &Treatment| {
            make(&TreatmentSeries {
                treatment: t,
                series: indices.iter().map(|&i| t.series(i)).collect(),
            })
        };
        let mut memos = self.memos.lock().unwrap_or_else(|e| e.into_inner());
        let slot = memos
            .entry((protocol_id, TypeId::of::<Memo<K, T>>()))
            .or_insert_with(|| Box::new(()));
        let valid = slot
            .downcast_ref::<Memo<K, T>>()
            .is_some_and(|m| m.key == key && m.epoch == state.epoch);
        if !valid {
            // A new day, schedule or usual day, or a new load: every entry is made again.
            let entries = state
                .aggregates
                .get(&(protocol_id, Segment::All))
                .into_iter()
                .flat_map(|agg| agg.by_date.range(from..=to))
                .flat_map(|(_, ids)| ids)
                .filter_map(|id| state.treatments.get(id))
                .map(|t| (t.id, make(t)))
                .collect();
            let memo = Memo {
                key,
                epoch: state.epoch,
                seen: state.touched.len(),
                entries,
            };
            *slot = Box::new(memo);
        }
        let Some(memo) = slot.downcast_mut::<Memo<K, T>>() else {
            return read(&mut std::iter::empty());
        };
        for id in state.touched.get(memo.seen..).unwrap_or_default() {
            match state.treatments.get(id) {
                Some(t)
                    if t.protocol_id == protocol_id && (from..=to).contains(&t.performed_on) =>
                {
                    memo.entries.insert(*id, make(t));
                }
                _ => {
                    memo.entries.remove(id);
                }
            }
        }
        memo.seen = state.touched.len();
        read(&mut memo.entries.values())
    }
}
