//! The worklist's order: one card per treatment, the most pressing first, and among equals the one
//! whose patient has waited longest for an answer.

use chrono::{DateTime, Utc};

use super::alerts::Level;

/// A card's place in the worklist: urgent cards first, then high, then normal and the cards that
/// hold only notes nobody has read (a note may say anything, so it waits with the normal alerts);
/// within a level, the card whose oldest unhandled report came first.
pub fn card_order(level: Option<Level>, oldest_report: DateTime<Utc>) -> (i16, DateTime<Utc>) {
    (level.unwrap_or(Level::Normal).rank(), oldest_report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn urgent_first_then_the_longest_waiting() {
        let now = Utc::now();
        let weeks_ago = now - Duration::weeks(3);
        // Today's fever comes before a weeks-old normal alert, whatever their ages.
        assert!(card_order(Some(Level::Urgent), now) < card_order(Some(Level::Normal), weeks_ago));
        assert!(card_order(Some(Level::High), now) < card_order(Some(Level::Normal), weeks_ago));
        // Within a level, the patient who has waited longest comes first.
        assert!(card_order(Some(Level::Urgent), weeks_ago) < card_order(Some(Level::Urgent), now));
        // A note alone waits with the normal alerts, by its time.
        assert!(card_order(None, weeks_ago) < card_order(Some(Level::Normal), now));
        assert!(card_order(Some(Level::High), now) < card_order(None, weeks_ago));
    }
}
