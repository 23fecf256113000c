//! The slot for the schema-versus-migrations check, which the migrations module provides.
//!
//! Proving `schemas/` against `migrations/` needs a migration runner and an emulator, so it lives
//! with the migrations (`migrate::check`). [`NotInstalled`] stands in where a registry is built
//! without it, so a green `qw validate` never pretends the schemas were proven.

use super::{Check, CheckInput};
use crate::finding::{Finding, Level};

/// The family name the migrations check must use, so it replaces this placeholder.
pub const FAMILY: &str = "migrations";

/// The check registered in the slot: the migrations module's replay (family [`FAMILY`]); it gets
/// the loaded project and, through `CheckInput::tree`, the `migrations/` folder.
pub fn schema_migrations_check() -> Box<dyn Check> {
    Box::new(crate::migrate::check::SchemaMigrationsCheck)
}

/// Stands in the slot until a real schema-versus-migrations check is registered.
pub struct NotInstalled;

impl Check for NotInstalled {
    fn family(&self) -> &'static str {
        FAMILY
    }

    fn run(&self, _input: &CheckInput) -> Vec<Finding> {
        vec![Finding::new(Level::Warning, FAMILY, "migrations-check-missing", "migrations", "", "schemas/ were not compared with migrations/: no schema-versus-migrations check is installed")
            .hint("install one with checks::Registry::with, family \"migrations\"")]
    }
}
