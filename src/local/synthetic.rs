//! Realistic synthetic recoveries, for the benchmark, the demo clinic and the alert precision
//! harness (`precision`). Symptoms fade over days 0-7 at rates that differ by protocol; flaking and
//! itching peak on days 2-4; pain is milder than redness. Every course is of a known kind: about one
//! in ten heals slowly (every healing symptom at 0.4 times the pace), one in a hundred is infected
//! (infection signs, spreading redness and pain, sometimes fever, on days 3-8), a few have late
//! breakouts or darkening from day 7 (more in darker skin), the rest are ordinary. Patients miss
//! some days and sometimes check in twice.
//!
//! Ratings wobble as real ones do: a rating is the symptom's true level plus the patient's error of
//! up to half a step either way (less for a faint symptom), rounded to the scale. So a symptom that
//! does not change is rated on one of two neighbouring steps from day to day, never two apart, and
//! one that has faded away is rated None.
//!
//! The precision harness draws harsher patients too (`Habits`, domain.md's "not kinder than real
//! ones"): some rate everything they feel a step high or low, some answer late at night (so that a
//! check-in falls on the next day), some often answer twice, and some stop for days.

pub mod precision;

use rand::Rng;

/// The symptom codes of the default catalogue; the last two are yes/no items.
pub const CODES: [&str; 12] = [
    "redness",
    "swelling",
    "bruising",
    "bleeding",
    "flaking",
    "itching",
    "pain",
    "breakout",
    "darkening",
    "infection",
    "fever",
    "blisters",
];

/// Check-in days of the protocols.
pub const SCHEDULE: [i64; 17] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 21, 28];

/// A protocol and how patients react to it.
pub struct Model {
    pub name: &'static str,
    pub procedure: &'static str,
    pub depth: f64,
    /// How fast redness and swelling fade, per day.
    pub rate: f64,
    /// How strong the reaction is on day 0.
    pub intensity: f64,
}

pub const PROTOCOLS: [Model; 3] = [
    Model {
        name: "Microneedling 1.0 mm",
        procedure: "microneedling",
        depth: 1.0,
        rate: 0.55,
        intensity: 2.6,
    },
    Model {
        name: "Microneedling 1.5 mm",
        procedure: "microneedling",
        depth: 1.5,
        rate: 0.38,
        intensity: 2.9,
    },
    Model {
        name: "Microneedling with PRP",
        procedure: "microneedling_prp",
        depth: 1.0,
        rate: 0.65,
        intensity: 2.4,
    },
];

/// A Fitzpatrick type, drawn as often as in a typical clinic.
pub fn fitzpatrick(rng: &mut impl Rng) -> i16 {
    [1, 2, 2, 3, 3, 4, 4, 5, 6][rng.random_range(0..9)]
}

/// What kind of recovery a course is, as the alert rules should see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Ordinary,
    Slow,
    Infected,
    LateReaction,
}

pub const KINDS: [Kind; 4] = [
    Kind::Ordinary,
    Kind::Slow,
    Kind::Infected,
    Kind::LateReaction,
];

/// One treatment's course, drawn once and then scored day by day.
pub struct Course<'a> {
    model: &'a Model,
    fitzpatrick: i16,
    pub kind: Kind,
    adherence: f64,
    strength: f64,
    pub habits: Habits,
}

/// How a patient answers, beyond the wobble every rating has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Habits {
    /// A step added to every symptom the patient feels (-1, 0 or 1); one not felt stays None.
    pub bias: i16,
    /// Answers between 22:00 and 02:00, so that about half the check-ins fall on the next day.
    pub late: bool,
    /// Answers twice on four days in ten, not one.
    pub twice: bool,
    /// Stops answering for these days (from, to), inclusive.
    pub pause: Option<(i64, i64)>,
}

impl Habits {
    /// One patient's habits: each of the four in about one patient of seven or ten.
    pub fn draw(rng: &mut impl Rng) -> Habits {
        let bias = match rng.random_range(0.0..1.0) {
            u if u < 0.15 => 1,
            u if u < 0.3 => -1,
            _ => 0,
        };
        let pause = rng.random_bool(0.15).then(|| {
            let from = rng.random_range(1..=10);
            (from, from + rng.random_range(1..=4))
        });
        Habits {
            bias,
            late: rng.random_bool(0.1),
            twice: rng.random_bool(0.1),
            pause,
        }
    }
}

impl<'a> Course<'a> {
    pub fn draw(rng: &mut impl Rng, model: &'a Model, fitzpatrick: i16) -> Course<'a> {
        let late = if fitzpatrick >= 4 { 0.08 } else { 0.02 };
        let kind = match rng.random_range(0.0..1.0) {
            u if u < 0.01 => Kind::Infected,
            u if u < 0.11 => Kind::Slow,
            u if u < 0.11 + late => Kind::LateReaction,
            _ => Kind::Ordinary,
        };
        Course {
            model,
            fitzpatrick,
            kind,
            adherence: rng.random_range(0.6..0.98),
            strength: model.intensity * rng.random_range(0.7..1.15),
            habits: Habits::default(),
        }
    }

    /// A course whose patient has habits of their own (`Habits::draw`).
    pub fn draw_harsh(rng: &mut impl Rng, model: &'a Model, fitzpatrick: i16) -> Course<'a> {
        let course = Course::draw(rng, model, fitzpatrick);
        Course {
            habits: Habits::draw(rng),
            ..course
        }
    }

    /// How many check-ins the patient sends on `day`: mostly one, some days none, now and then two.
    pub fn check_ins_on(&self, rng: &mut impl Rng, day: i64) -> usize {
        let paused = self
            .habits
            .pause
            .is_some_and(|(from, to)| (from..=to).contains(&day));
        let twice = if self.habits.twice { 0.4 } else { 0.1 };
        if paused || !rng.random_bool((self.adherence - day as f64 * 0.01).clamp(0.0, 1.0)) {
            0
        } else if rng.random_bool(twice) {
            2
        } else {
            1
        }
    }

    /// One check-in's answers on `day`: the common items always, the rest about half the time.
    pub fn scores(&self, rng: &mut impl Rng, day: i64) -> Vec<(&'static str, i16)> {
        let (p, d) = (self.model, day as f64);
        // How far healing has got: a slow course heals at 0.4 times the pace.
        let t = if self.kind == Kind::Slow { 0.4 * d } else { d };
        let infected = self.kind == Kind::Infected && (3..=8).contains(&day);
        let late = self.kind == Kind::LateReaction && day >= 7;
        let mut scores = vec![];
        for (k, code) in CODES.iter().enumerate() {
            if k >= 7 && k != 9 && k != 10 && !rng.random_bool(0.5) {
                continue;
            }
            let inflamed = if infected { 1.5 } else { 0.0 };
            let raw = match *code {
                "redness" | "swelling" => self.strength * (-p.rate * t).exp() + inflamed,
                "pain" => 0.6 * self.strength * (-1.3 * p.rate * t).exp() + inflamed,
                "bruising" | "bleeding" => self.strength * 0.5 * (-1.2 * t).exp(),
                "flaking" | "itching" => {
                    1.8 * (-((t - 3.0) / 2.0).powi(2)).exp() * self.strength / 2.6
                }
                "breakout" | "darkening" if late => rng.random_range(1.5..3.4),
                "darkening" if self.fitzpatrick >= 4 => 0.8 * (-0.2 * d).exp(),
                "infection" if infected => rng.random_range(1.0..3.5),
                "fever" => f64::from(infected && day <= 5 && rng.random_bool(0.5)),
                _ => 0.0,
            };
            let yes_no = k >= 10;
            let error = if yes_no {
                0.0
            } else {
                rng.random_range(-0.5..0.5) * raw.min(1.0)
            };
            let felt = !yes_no && raw >= 0.5;
            let bias = if felt {
                f64::from(self.habits.bias)
            } else {
                0.0
            };
            let score = (raw + error + bias)
                .round()
                .clamp(0.0, if yes_no { 1.0 } else { 4.0 }) as i16;
            scores.push((*code, score));
        }
        scores
    }
}
