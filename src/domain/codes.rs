//! The stable codes of domain.md: procedures, areas, concerns and contraindications.
//! Unknown codes fail to deserialize, which the API reports as a 422 naming the field.

use serde::{Deserialize, Serialize};

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// Codes as the database stores them: sorted, each once (a text array, whose elements may be null).
pub fn stored<T: Copy + Ord>(codes: &[T]) -> Vec<Option<T>> {
    let mut codes = codes.to_vec();
    codes.sort();
    codes.dedup();
    codes.into_iter().map(Some).collect()
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
