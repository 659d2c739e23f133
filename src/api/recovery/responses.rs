//! The recovery views' OpenAPI schemas. The API serves the read model's views as they are (plain
//! serde values); their schemas come from mirrors declared by the same `recovery_views!` text, so
//! a view and its schema can't drift apart.

use crate::read_model::views::{self, recovery_views};

/// Declares the mirrors (never built: only their schemas are used) and gives each view its
/// mirror's schema, under the same name.
macro_rules! documented {
    ($($(#[$attr:meta])* pub struct $name:ident $body:tt)*) => {
        #[allow(dead_code)]
        mod mirror {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            $(
                $(#[$attr])*
                #[derive(utoipa::ToSchema)]
                pub struct $name $body
            )*
        }

        crate::api::schemas::mirrored!($(views::$name => mirror::$name),*);
    };
}

recovery_views!(documented);
