//! The recovery views' OpenAPI schemas. The API serves the read model's views as they are (plain
//! serde values); their schemas come from mirrors declared by the same `recovery_views!` text, so
//! a view and its schema can't drift apart.

use crate::api::schemas::documented;
use crate::read_model::views::{self, recovery_views};

recovery_views!(documented views => mirror;);
