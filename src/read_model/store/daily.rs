//! A treatment's worst score of each symptom on each day, held as one block: a row of `span` days
//! per symptom (by interned code). One allocation per treatment where a vector per symptom took
//! ten, which halves the read model, and a byte a cell (bench/README.md, issue 28).

use crate::domain::recovery::DayScore;

#[derive(Debug, Clone, Default)]
pub(crate) struct Daily {
    /// Days per row: room for the latest day any symptom reached, and while scores arrive a little
    /// more, so that a row grows by a copy every eighth new day, not every day.
    span: usize,
    cells: Vec<DayScore>,
}

impl Daily {
    /// One symptom's scores from day 0 to its last scored day; empty when it has none.
    pub(crate) fn series(&self, code: usize) -> &[DayScore] {
        let start = code.saturating_mul(self.span);
        let row = self.cells.get(start..start + self.span).unwrap_or(&[]);
        let len = row
            .iter()
            .rposition(|s| s.get().is_some())
            .map_or(0, |last| last + 1);
        &row[..len]
    }

    /// Every symptom's series, by interned code.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &[DayScore]> {
        (0..self.codes()).map(|code| self.series(code))
    }

    /// The cell of one symptom on one day, made room for if need be.
    pub(crate) fn cell(&mut self, code: usize, day: usize) -> &mut DayScore {
        if day >= self.span || code >= self.codes() {
            let span = self.span.max((day + 1).next_multiple_of(8));
            self.relayout(self.codes().max(code + 1), span);
        }
        &mut self.cells[code * self.span + day]
    }

    /// Gives back the room no symptom has used (after a full load).
    pub(crate) fn shrink(&mut self) {
        let span = self.rows().map(<[_]>::len).max().unwrap_or(0);
        self.relayout(self.codes(), span);
        self.cells.shrink_to_fit();
    }

    fn codes(&self) -> usize {
        self.cells.len().checked_div(self.span).unwrap_or(0)
    }

    /// Lays the cells out again with `codes` rows of `span` days; a row keeps at most `span` days
    /// (callers only ever cut days that hold nothing).
    fn relayout(&mut self, codes: usize, span: usize) {
        let mut cells = vec![DayScore::NONE; codes * span];
        if self.span > 0 {
            for (row, old) in cells
                .chunks_mut(span.max(1))
                .zip(self.cells.chunks(self.span))
            {
                let kept = old.len().min(span);
                row[..kept].copy_from_slice(&old[..kept]);
            }
        }
        (self.cells, self.span) = (cells, span);
    }
}

#[cfg(test)]
mod tests {
    use super::{Daily, DayScore};

    fn set(d: &mut Daily, code: usize, day: usize, score: u8) {
        *d.cell(code, day) = DayScore::new(score);
    }

    fn scores(series: &[DayScore]) -> Vec<Option<u8>> {
        series.iter().map(|s| s.get()).collect()
    }

    #[test]
    fn each_series_ends_at_its_last_scored_day_whatever_room_the_block_has() {
        let mut d = Daily::default();
        assert_eq!(scores(d.series(0)), []);
        set(&mut d, 0, 0, 3);
        set(&mut d, 0, 2, 1);
        set(&mut d, 2, 9, 0);
        assert_eq!(scores(d.series(0)), [Some(3), None, Some(1)]);
        // A symptom between two others, never scored: empty, not a row of nothing.
        assert_eq!(scores(d.series(1)), []);
        assert_eq!(d.series(2).len(), 10);
        assert_eq!(d.series(2)[9].get(), Some(0));
        // Beyond the symptoms it holds: empty.
        assert_eq!(scores(d.series(7)), []);
        assert_eq!(d.rows().count(), 3);
    }

    #[test]
    fn growing_and_shrinking_keep_every_score() {
        let mut d = Daily::default();
        for day in 0..30 {
            for code in 0..4 {
                set(&mut d, code, day, ((day + code) % 5) as u8);
            }
        }
        set(&mut d, 5, 40, 2);
        let before: Vec<Vec<Option<u8>>> = d.rows().map(scores).collect();
        d.shrink();
        let after: Vec<Vec<Option<u8>>> = d.rows().map(scores).collect();
        assert_eq!(before, after);
        assert_eq!(d.span, 41);
        assert_eq!(d.cells.len(), 6 * 41);
        // After shrinking, a new day still finds room.
        set(&mut d, 0, 41, 4);
        assert_eq!(d.series(0).len(), 42);
        assert_eq!(d.series(5)[40].get(), Some(2));
    }
}
