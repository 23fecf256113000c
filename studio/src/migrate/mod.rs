//! Migrations: the two file formats, pure planning, a runner with history, lock and resume
//! against any Appwrite endpoint, and the replay check that proves `schemas/` and every `down`.

pub mod apply;
pub mod check;
pub mod format;
pub mod history;
pub mod host;
pub mod inverse;
pub mod js;
pub mod lock;
pub mod plan;
pub mod run;
pub mod schema_gen;
pub mod snapshot;
pub mod transform;
