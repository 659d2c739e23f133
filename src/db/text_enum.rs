//! Domain types stored as text: one way to write them and read them back. A stored value that names
//! none of the type's values is a deserialization error naming the value (a 500, never a guess), so a
//! row the code did not write cannot turn into a wrong answer without a sound.

use chrono_tz::Tz;

/// Lets a row hold `$ty` for a text column, through its `as_str` and `parse` (`fn(&str) -> Option`):
/// written as `as_str` gives it, read back through `parse`, and an unknown value is an error.
macro_rules! text_enum {
    ($ty:ty, $what:literal) => {
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                $crate::db::text_enum::read(value.as_bytes(), <$ty>::parse, $what)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        // Read as a column's value (what diesel's `FromSqlRow` derive would say).
        impl diesel::deserialize::Queryable<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            type Row = Self;

            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }

        // Written as its text, borrowed or not, to a column that may be null or not: the
        // expression is the `&'static str` that `as_str` gives.
        impl diesel::expression::AsExpression<diesel::sql_types::Text> for $ty {
            type Expression = <&'static str as diesel::expression::AsExpression<
                diesel::sql_types::Text,
            >>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<diesel::sql_types::Text>::as_expression(
                    self.as_str(),
                )
            }
        }

        impl diesel::expression::AsExpression<diesel::sql_types::Nullable<diesel::sql_types::Text>>
            for $ty
        {
            type Expression = <&'static str as diesel::expression::AsExpression<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
            >>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<
                    diesel::sql_types::Nullable<diesel::sql_types::Text>,
                >::as_expression(self.as_str())
            }
        }

        impl<'a> diesel::expression::AsExpression<diesel::sql_types::Text> for &'a $ty {
            type Expression =
                <$ty as diesel::expression::AsExpression<diesel::sql_types::Text>>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<diesel::sql_types::Text>::as_expression(*self)
            }
        }

        impl<'a>
            diesel::expression::AsExpression<diesel::sql_types::Nullable<diesel::sql_types::Text>>
            for &'a $ty
        {
            type Expression = <$ty as diesel::expression::AsExpression<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
            >>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<
                    diesel::sql_types::Nullable<diesel::sql_types::Text>,
                >::as_expression(*self)
            }
        }
    };
}

text_enum!(crate::domain::alerts::Rule, "an alert rule");
text_enum!(crate::domain::alerts::Level, "an alert level");
text_enum!(crate::domain::alerts::Status, "an alert status");
text_enum!(
    crate::domain::alerts::Action,
    "an alert resolution's action"
);
text_enum!(crate::domain::audit::Action, "an audit action");
text_enum!(
    crate::domain::codes::AdverseOutcome,
    "a complication's outcome"
);
text_enum!(crate::domain::codes::Assessor, "an outcome's assessor");
text_enum!(crate::domain::codes::Procedure, "a procedure");
text_enum!(crate::domain::codes::Area, "an area");
text_enum!(crate::domain::codes::Concern, "a concern");
text_enum!(crate::domain::people::StaffRole, "a staff role");
text_enum!(crate::domain::people::Role, "a role");
text_enum!(crate::domain::symptoms::SymptomKind, "a symptom kind");
text_enum!(crate::domain::reminders::Language, "a reminder language");
text_enum!(crate::domain::webhooks::EventType, "a webhook event type");
text_enum!(
    crate::domain::webhooks::DeliveryStatus,
    "a webhook delivery's status"
);
text_enum!(Zone, "an IANA time zone");

/// Reads stored text through `parse`; text it doesn't know is an error naming it and `what` it should be.
pub fn read<T>(
    bytes: &[u8],
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> diesel::deserialize::Result<T> {
    let text = std::str::from_utf8(bytes)?;
    parse(text).ok_or_else(|| format!("{text:?} is not {what}").into())
}

/// A clinic's time zone as stored, by its IANA name; a row reads it with
/// `#[diesel(deserialize_as = Zone)]` into a [`Tz`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(pub Tz);

impl Zone {
    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    pub fn parse(name: &str) -> Option<Zone> {
        name.parse().ok().map(Zone)
    }
}

impl From<Zone> for Tz {
    fn from(zone: Zone) -> Tz {
        zone.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alerts::Rule;

    #[test]
    fn a_stored_value_reads_back_and_an_unknown_one_is_an_error() {
        let rule = |text: &str| read(text.as_bytes(), Rule::parse, "an alert rule");
        assert_eq!(rule("slower_than_peers").unwrap(), Rule::SlowerThanPeers);
        assert_eq!(rule("fever").unwrap(), Rule::Fever);
        // Close to a rule, but not one: an error naming the value, never the nearest rule.
        let e = rule("fevers").unwrap_err().to_string();
        assert_eq!(e, r#""fevers" is not an alert rule"#);
        assert!(rule("").is_err());
        assert!(read(b"\xff", Rule::parse, "an alert rule").is_err());
        let zone = |text: &str| read(text.as_bytes(), Zone::parse, "an IANA time zone");
        assert_eq!(zone("Europe/Berlin").unwrap().0, Tz::Europe__Berlin);
        assert!(zone("Europe/Atlantis").is_err());
    }

    /// These were read back with a default once (an unknown status as open or pending, a role
    /// other than admin as clinician, an unknown area, concern or resolution action skipped).
    #[test]
    fn statuses_roles_and_codes_read_back_loudly() {
        use crate::domain::alerts::{Action, Status};
        use crate::domain::codes::{Area, Concern};
        use crate::domain::people::StaffRole;
        use crate::domain::webhooks::DeliveryStatus;

        let status = |text: &str| read(text.as_bytes(), Status::parse, "an alert status");
        let action = |text: &str| read(text.as_bytes(), Action::parse, "an action");
        assert_eq!(action("saw_patient").unwrap(), Action::SawPatient);
        assert!(action("called").is_err());
        assert_eq!(status("acknowledged").unwrap(), Status::Acknowledged);
        assert!(status("closed").is_err());
        let delivery = |text: &str| read(text.as_bytes(), DeliveryStatus::parse, "a status");
        assert_eq!(delivery("failed").unwrap(), DeliveryStatus::Failed);
        assert!(delivery("sent").is_err());
        let role = |text: &str| read(text.as_bytes(), StaffRole::parse, "a staff role");
        assert_eq!(role("clinician").unwrap(), StaffRole::Clinician);
        assert!(role("Admin").is_err());
        assert!(role("nurse").is_err());
        assert_eq!(read(b"neck", Area::parse, "an area").unwrap(), Area::Neck);
        assert!(read(b"elbow", Area::parse, "an area").is_err());
        assert!(read(b"wrinkles", Concern::parse, "a concern").is_err());
    }
}
