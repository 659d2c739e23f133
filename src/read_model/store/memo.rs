//! What a view makes of each treatment in a protocol's recent window, kept between requests: a
//! treatment's entry is made again only when the treatment changed (a score, its facts) or the
//! view's inputs did (its `key`: the day, the schedule, the usual resolution days). The dashboard
//! and the patient list ask for every treatment still in follow-up, tens of thousands at a hundred
//! million scores, and between two requests only the few that checked in change.

use std::any::{Any, TypeId};

use super::*;

/// One view's entries for one protocol, valid for one `key` and one full load of the store.
struct Memo<K, T> {
    key: K,
    load: u64,
    entries: HashMap<Uuid, (u32, T)>,
}

/// Every view's memo, by protocol and by the view's types.
pub(super) type Memos = Mutex<HashMap<(Uuid, TypeId), Box<dyn Any + Send>>>;

impl Store {
    /// `f` of each of a protocol's treatments performed between `from` and `to` (inclusive), with
    /// the daily scores of `codes`; `f`'s answer for a treatment is reused while neither the
    /// treatment nor `key` changes, so `key` must hold everything `f` reads besides the treatment.
    pub fn map_window<K, T>(
        &self,
        protocol_id: Uuid,
        (from, to): (NaiveDate, NaiveDate),
        codes: &[String],
        key: K,
        f: impl Fn(&TreatmentSeries<'_>) -> T,
    ) -> Vec<T>
    where
        K: PartialEq + Send + 'static,
        T: Clone + Send + 'static,
    {
        let state = self.read();
        let Some(agg) = state.aggregates.get(&(protocol_id, Segment::All)) else {
            return vec![];
        };
        let mut memos = self.memos.lock().unwrap_or_else(|e| e.into_inner());
        let slot = memos
            .entry((protocol_id, TypeId::of::<Memo<K, T>>()))
            .or_insert_with(|| Box::new(()));
        let valid = slot
            .downcast_ref::<Memo<K, T>>()
            .is_some_and(|m| m.key == key && m.load == state.load);
        if !valid {
            // A new day, schedule or usual day, or a new load: every entry is made again.
            *slot = Box::new(Memo::<K, T> {
                key,
                load: state.load,
                entries: HashMap::new(),
            });
        }
        let Some(memo) = slot.downcast_mut::<Memo<K, T>>() else {
            return vec![];
        };
        let indices = state.indices(codes);
        let mut out = vec![];
        for t in agg
            .by_date
            .range(from..=to)
            .flat_map(|(_, ids)| ids)
            .filter_map(|id| state.treatments.get(id))
        {
            match memo.entries.get(&t.id) {
                Some((version, value)) if *version == t.version => out.push(value.clone()),
                _ => {
                    let value = f(&TreatmentSeries {
                        treatment: t,
                        series: indices.iter().map(|&i| t.series(i)).collect(),
                    });
                    memo.entries.insert(t.id, (t.version, value.clone()));
                    out.push(value);
                }
            }
        }
        out
    }
}
