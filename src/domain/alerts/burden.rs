//! The burden of the alerts a clinic was sent: per rule, per 100 patient-weeks in follow-up, and
//! what resolving them led to.

use std::collections::BTreeMap;

use super::{Action, RULES, Rule};

/// One rule's alert burden over a period: how many alerts, per 100 patient-weeks in follow-up,
/// and what resolving them led to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burden {
    pub alerts: u32,
    /// None when no patient was in follow-up.
    pub per_100_patient_weeks: Option<f64>,
    pub resolved: u32,
    /// Resolved saying something was done, and saying nothing was needed; the rest of the
    /// resolved alerts did not say.
    pub led_to_action: u32,
    pub no_action: u32,
}

impl Burden {
    /// The share of resolved alerts that said what they led to and led to an action; None
    /// before any did.
    pub fn action_share(&self) -> Option<f64> {
        let said = self.led_to_action + self.no_action;
        (said > 0).then(|| f64::from(self.led_to_action) / f64::from(said))
    }
}

/// The burden of the alerts raised in a period, each given as (its rule, whether it is resolved,
/// the action its resolution recorded), over `patient_weeks` in follow-up in that period: one
/// figure per rule, in the order of `RULES`, and the whole.
pub fn burden(
    alerts: impl IntoIterator<Item = (Rule, bool, Option<Action>)>,
    patient_weeks: f64,
) -> (Vec<(Rule, Burden)>, Burden) {
    let empty = Burden {
        alerts: 0,
        per_100_patient_weeks: None,
        resolved: 0,
        led_to_action: 0,
        no_action: 0,
    };
    let mut by_rule: BTreeMap<Rule, Burden> = RULES.iter().map(|&r| (r, empty)).collect();
    let mut all = empty;
    for (rule, resolved, action) in alerts {
        for b in [by_rule.entry(rule).or_insert(empty), &mut all] {
            b.alerts += 1;
            b.resolved += u32::from(resolved);
            b.led_to_action += u32::from(action.is_some_and(Action::is_action));
            b.no_action += u32::from(action == Some(Action::NoAction));
        }
    }
    let rate = |b: &mut Burden| {
        b.per_100_patient_weeks =
            (patient_weeks > 0.0).then(|| 100.0 * f64::from(b.alerts) / patient_weeks);
    };
    by_rule.values_mut().for_each(rate);
    rate(&mut all);
    (by_rule.into_iter().collect(), all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burden_per_rule_per_100_patient_weeks() {
        use Action::*;
        let alerts = [
            (Rule::Fever, true, Some(ContactedPatient)),
            (Rule::Fever, true, Some(NoAction)),
            (Rule::Fever, false, None),
            (Rule::MissedCheckIns, true, None),
        ];
        let (rules, all) = burden(alerts, 50.0);
        let fever = rules
            .iter()
            .find(|(r, _)| *r == Rule::Fever)
            .map(|(_, b)| *b);
        let fever = fever.expect("every rule has a row");
        assert_eq!(
            (
                fever.alerts,
                fever.resolved,
                fever.led_to_action,
                fever.no_action
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(fever.per_100_patient_weeks, Some(6.0));
        assert_eq!(fever.action_share(), Some(0.5));
        // A resolution that did not say what it led to counts in neither side of the share.
        let missed = rules
            .iter()
            .find(|(r, _)| *r == Rule::MissedCheckIns)
            .map(|(_, b)| *b);
        assert_eq!(missed.and_then(|b| b.action_share()), None);
        assert_eq!(rules.len(), RULES.len());
        assert_eq!((all.alerts, all.resolved, all.led_to_action), (4, 3, 1));
        assert_eq!(all.per_100_patient_weeks, Some(8.0));
        assert_eq!(burden([], 0.0).1.per_100_patient_weeks, None);
        assert_eq!(Action::parse("saw_patient"), Some(SawPatient));
        assert!(!NoAction.is_action());
    }
}
