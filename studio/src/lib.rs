//! Studio's core: the QuixoticWhisper project model, its consistency checks, scaffolding,
//! migrations and the Appwrite REST client.

pub mod appwrite;
pub mod checks;
pub mod finding;
pub mod migrate;
pub mod project;
pub mod scaffold;
