//! Realistic synthetic recoveries, for the benchmark and the demo clinic. Symptoms fade over days
//! 0-7 at rates that differ by protocol and Fitzpatrick type; flaking and itching peak on days 2-4;
//! about one treatment in ten recovers slowly, one in a hundred shows infection signs, a few have
//! late breakouts or darkening (more in darker skin); patients miss some days and sometimes check
//! in twice.

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

/// One treatment's course, drawn once and then scored day by day.
pub struct Course<'a> {
    model: &'a Model,
    fitzpatrick: i16,
    slow: f64,
    infection: bool,
    late: bool,
    adherence: f64,
    strength: f64,
}

impl<'a> Course<'a> {
    pub fn draw(rng: &mut impl Rng, model: &'a Model, fitzpatrick: i16) -> Course<'a> {
        Course {
            model,
            fitzpatrick,
            slow: if rng.random_bool(0.1) { 0.4 } else { 1.0 },
            infection: rng.random_bool(0.01),
            late: rng.random_bool(if fitzpatrick >= 4 { 0.08 } else { 0.02 }),
            adherence: rng.random_range(0.6..0.98),
            strength: model.intensity * rng.random_range(0.7..1.15),
        }
    }

    /// How many check-ins the patient sends on `day`: mostly one, some days none, now and then two.
    pub fn check_ins_on(&self, rng: &mut impl Rng, day: i64) -> usize {
        if !rng.random_bool((self.adherence - day as f64 * 0.01).clamp(0.0, 1.0)) {
            0
        } else if rng.random_bool(0.1) {
            2
        } else {
            1
        }
    }

    /// One check-in's answers on `day`: the common items always, the rest about half the time.
    pub fn scores(&self, rng: &mut impl Rng, day: i64) -> Vec<(&'static str, i16)> {
        let (p, d) = (self.model, day as f64);
        let mut scores = vec![];
        for (k, code) in CODES.iter().enumerate() {
            if k >= 7 && k != 9 && k != 10 && !rng.random_bool(0.5) {
                continue;
            }
            let noise = rng.random_range(-0.35..0.35);
            let raw = match *code {
                "redness" | "swelling" | "pain" => self.strength * (-p.rate * self.slow * d).exp(),
                "bruising" | "bleeding" => self.strength * 0.5 * (-1.2 * d).exp(),
                "flaking" | "itching" => {
                    1.8 * (-((d - 3.0) / 2.0).powi(2)).exp() * self.strength / 2.6
                }
                "breakout" | "darkening" if self.late && day >= 7 => rng.random_range(1.5..3.4),
                "darkening" if self.fitzpatrick >= 4 => 0.8 * (-0.2 * d).exp(),
                "infection" if self.infection && (3..=8).contains(&day) => {
                    rng.random_range(1.0..3.5)
                }
                "fever" => {
                    f64::from(self.infection && (3..=5).contains(&day) && rng.random_bool(0.5))
                }
                _ => 0.0,
            };
            // Patients rate what they have a little up or down, and what fades away steadily.
            let yes_no = k >= 10;
            let score = (raw + if yes_no { 0.0 } else { noise * raw.min(1.0) })
                .round()
                .clamp(0.0, if yes_no { 1.0 } else { 4.0 }) as i16;
            scores.push((*code, score));
        }
        scores
    }
}
