//! The stable codes of domain.md: procedures, areas, concerns and contraindications.
//! Unknown codes fail to deserialize, which the API reports as a 422 naming the field.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

code_enum!(
    /// The kind of needling a protocol performs.
    Procedure {
        Microneedling = "microneedling",
        MicroneedlingPrp = "microneedling_prp",
        RfMicroneedling = "rf_microneedling",
        Other = "other",
    }
);

code_enum!(
    /// A treated area.
    Area {
        Face = "face",
        Neck = "neck",
        Chest = "chest",
        Hands = "hands",
        Scalp = "scalp",
        Body = "body",
    }
);

code_enum!(
    /// What the patient wants treated.
    Concern {
        FineLines = "fine_lines",
        AcneScars = "acne_scars",
        OtherScars = "other_scars",
        Pores = "pores",
        Texture = "texture",
        Hyperpigmentation = "hyperpigmentation",
        StretchMarks = "stretch_marks",
        HairLoss = "hair_loss",
    }
);

code_enum!(
    /// A condition that advises against treatment; see domain.md.
    Contraindication {
        ActiveAcne = "active_acne",
        SkinInfection = "skin_infection",
        EczemaPsoriasis = "eczema_psoriasis",
        KeloidHistory = "keloid_history",
        BleedingDisorder = "bleeding_disorder",
        Pregnancy = "pregnancy",
        SkinAllergy = "skin_allergy",
        Diabetes = "diabetes",
    }
);

/// Parses stored codes back; a stored code is always one we wrote, so unknown ones are skipped.
pub fn parse_all<T>(codes: &[Option<String>], parse: fn(&str) -> Option<T>) -> Vec<T> {
    codes.iter().flatten().filter_map(|c| parse(c)).collect()
}

/// Codes as the database stores them: sorted, each once.
pub fn stored<T: Copy + Ord>(codes: &[T], as_str: fn(T) -> &'static str) -> Vec<Option<String>> {
    let mut codes = codes.to_vec();
    codes.sort();
    codes.dedup();
    codes.iter().map(|c| Some(as_str(*c).to_owned())).collect()
}

code_enum!(
    /// What became of a complication.
    AdverseOutcome {
        Resolved = "resolved",
        Recovering = "recovering",
        Ongoing = "ongoing",
        ResolvedWithSequelae = "resolved_with_sequelae",
        Unknown = "unknown",
    }
);

code_enum!(
    /// Who rated an outcome.
    Assessor {
        Clinician = "clinician",
        Patient = "patient",
    }
);
