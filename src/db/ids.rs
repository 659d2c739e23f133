//! The resources' id types (`domain::ids`) as diesel sees them: each is written and read as the
//! `uuid` column it is stored in, so rows, insert forms and queries hold the typed ids.

use diesel::sql_types::{Nullable, Uuid as SqlUuid};

/// Lets rows and queries hold `$ty` for a `uuid` column, as the `Uuid` inside it.
macro_rules! uuid_id {
    ($($ty:ident),* $(,)?) => {$(
        impl diesel::deserialize::FromSql<SqlUuid, diesel::pg::Pg> for crate::domain::ids::$ty {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                <uuid::Uuid as diesel::deserialize::FromSql<SqlUuid, diesel::pg::Pg>>::from_sql(value)
                    .map(Self::from_uuid)
            }
        }

        impl diesel::serialize::ToSql<SqlUuid, diesel::pg::Pg> for crate::domain::ids::$ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <uuid::Uuid as diesel::serialize::ToSql<SqlUuid, diesel::pg::Pg>>::to_sql(
                    self.as_uuid(),
                    out,
                )
            }
        }

        // Read as a column's value (what diesel's `FromSqlRow` derive would say).
        impl diesel::deserialize::Queryable<SqlUuid, diesel::pg::Pg> for crate::domain::ids::$ty {
            type Row = Self;

            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl diesel::expression::AsExpression<SqlUuid> for crate::domain::ids::$ty {
            type Expression = <uuid::Uuid as diesel::expression::AsExpression<SqlUuid>>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<SqlUuid>::as_expression(self.uuid())
            }
        }

        impl diesel::expression::AsExpression<Nullable<SqlUuid>> for crate::domain::ids::$ty {
            type Expression =
                <uuid::Uuid as diesel::expression::AsExpression<Nullable<SqlUuid>>>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<Nullable<SqlUuid>>::as_expression(self.uuid())
            }
        }

        impl<'a> diesel::expression::AsExpression<SqlUuid> for &'a crate::domain::ids::$ty {
            type Expression = <uuid::Uuid as diesel::expression::AsExpression<SqlUuid>>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<SqlUuid>::as_expression(self.uuid())
            }
        }

        impl<'a> diesel::expression::AsExpression<Nullable<SqlUuid>>
            for &'a crate::domain::ids::$ty
        {
            type Expression =
                <uuid::Uuid as diesel::expression::AsExpression<Nullable<SqlUuid>>>::Expression;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<Nullable<SqlUuid>>::as_expression(self.uuid())
            }
        }
    )*};
}

uuid_id!(
    ClinicId,
    PatientId,
    TreatmentId,
    ProtocolId,
    CheckInId,
    AlertId,
    StaffId,
    AdverseEventId,
    OutcomeId,
    WebhookId,
    DeliveryId,
    SessionId,
);
