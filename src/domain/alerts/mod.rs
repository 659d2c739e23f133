//! When a clinician must be told (domain.md): the alert rules, with their codes and levels. They stay
//! quiet on an ordinary recovery: strong redness, swelling and pain on the treatment day, flaking and
//! itching rising on days 2-4, and a rating that wobbles by one step from day to day raise nothing.
//!
//! The rules come in families: those one check-in meets (`check_in`), those a silence after the
//! schedule's days meets (`silence`), and the burden of the alerts they raise (`burden`).

mod burden;
mod check_in;
mod silence;

use serde::{Deserialize, Serialize};

pub use burden::{Burden, burden};
pub use check_in::{
    Observation, WORSENING, evaluate, lowest_before, needs_earlier_days, urgent_from_day,
};
pub use silence::{missed_in_a_row, rated_severe, silent_after_bad_report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Urgent,
    High,
    Normal,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Urgent, Level::High, Level::Normal];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Urgent => "urgent",
            Level::High => "high",
            Level::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Urgent first.
    pub fn rank(self) -> i16 {
        self as i16
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `infection` >= 1, on any day.
    InfectionSigns,
    /// `fever` = 1, on any day.
    Fever,
    /// `blisters` = 1, on any day (cold-sore reactivation).
    Blisters,
    /// Any severity item rated 4 on day 1 or later, or pain rated 4 on any day.
    VerySevere,
    /// Any severity item rated 3 or more on day 3 or later (but flaking and itching on days 3-4,
    /// which peak then as the skin heals).
    SeverePersisting,
    /// From day 2 on, redness, swelling or pain at least 2 steps above the lowest value reported for
    /// it on an earlier day, day 1 or later.
    Worsening,
    /// Redness or swelling >= 2 on day 4 or later.
    SlowRecovery,
    /// Breakout or darkening >= 2 on day 7 or later.
    LateReaction,
    /// Two scheduled check-in days in a row without a check-in, after a check-in that raised an
    /// alert or rated a severity item 3 or more (`bad_report`).
    SilentAfterBadReport,
    /// Three scheduled check-in days in a row without a check-in, within days 0-7, the patient
    /// having been reminded where reminders are on.
    MissedCheckIns,
    /// A symptom still rated 1 or more after the day by which 90% of the protocol's treatments had
    /// resolved it (`recovery::usual_resolution_day`); at most once per treatment.
    SlowerThanPeers,
}

pub const RULES: [Rule; 11] = [
    Rule::InfectionSigns,
    Rule::Fever,
    Rule::Blisters,
    Rule::VerySevere,
    Rule::SeverePersisting,
    Rule::Worsening,
    Rule::SlowRecovery,
    Rule::LateReaction,
    Rule::SilentAfterBadReport,
    Rule::MissedCheckIns,
    Rule::SlowerThanPeers,
];

impl Rule {
    pub fn level(self) -> Level {
        match self {
            Rule::InfectionSigns | Rule::Fever | Rule::Blisters | Rule::VerySevere => Level::Urgent,
            Rule::SeverePersisting | Rule::Worsening | Rule::SilentAfterBadReport => Level::High,
            Rule::SlowRecovery
            | Rule::LateReaction
            | Rule::MissedCheckIns
            | Rule::SlowerThanPeers => Level::Normal,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::InfectionSigns => "infection_signs",
            Rule::Fever => "fever",
            Rule::Blisters => "blisters",
            Rule::VerySevere => "very_severe",
            Rule::SeverePersisting => "severe_persisting",
            Rule::Worsening => "worsening",
            Rule::SlowRecovery => "slow_recovery",
            Rule::LateReaction => "late_reaction",
            Rule::SilentAfterBadReport => "silent_after_bad_report",
            Rule::MissedCheckIns => "missed_check_ins",
            Rule::SlowerThanPeers => "slower_than_peers",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        RULES.into_iter().find(|r| r.as_str() == s)
    }

    /// Raised at most once per treatment, even after a clinician resolved it; the other rules are
    /// raised again when met after their alert was resolved.
    pub fn once_per_treatment(self) -> bool {
        self == Rule::SlowerThanPeers
    }

    /// Raised by the scheduled job from the check-ins that did not come, never by a check-in.
    pub fn is_about_silence(self) -> bool {
        matches!(self, Rule::SilentAfterBadReport | Rule::MissedCheckIns)
    }
}

/// Where an alert is in its life: open until a clinician acknowledges or resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Acknowledged,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Open, Status::Acknowledged, Status::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// What resolving an alert led to (domain.md, "What a clinic sees of its own alerts").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ContactedPatient,
    SawPatient,
    ChangedTreatment,
    NoAction,
}

pub const ACTIONS: [Action; 4] = [
    Action::ContactedPatient,
    Action::SawPatient,
    Action::ChangedTreatment,
    Action::NoAction,
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ContactedPatient => "contacted_patient",
            Action::SawPatient => "saw_patient",
            Action::ChangedTreatment => "changed_treatment",
            Action::NoAction => "no_action",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        ACTIONS.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether something was done for the patient.
    pub fn is_action(self) -> bool {
        self != Action::NoAction
    }
}
