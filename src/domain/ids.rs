//! The ids of the resources, one type each, so a patient's id can't be passed where a treatment's
//! belongs. Each wraps the `Uuid` it is stored and sent as: serialized as that uuid, shown as it,
//! and converted to and from it at the edges (the wire types, the read model).

use std::fmt;

use uuid::Uuid;

/// Declares id types over `Uuid`, each with the same conversions.
macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[repr(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new random id, for a row about to be stored.
            pub fn new_v4() -> Self {
                $name(Uuid::new_v4())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }

            pub const fn uuid(self) -> Uuid {
                self.0
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )*};
}

ids! {
    /// A clinic: the tenant every other row belongs to.
    ClinicId;
    PatientId;
    TreatmentId;
    ProtocolId;
    CheckInId;
    AlertId;
    /// A staff member: an admin or a clinician.
    StaffId;
    AdverseEventId;
    OutcomeId;
    WebhookId;
    DeliveryId;
    /// A signed-in session: the family of refresh tokens it rotates through.
    SessionId;
}
