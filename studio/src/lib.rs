//! Studio's core: the QuixoticWhisper project model, its consistency checks and scaffolding.

pub mod checks;
pub mod finding;
pub mod project;
pub mod scaffold;
