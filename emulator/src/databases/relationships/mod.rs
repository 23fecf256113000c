//! Relationship attributes (columns): oneToOne, oneToMany, manyToOne and manyToMany, one-way or
//! two-way, with `onDelete` restrict, cascade or setNull; nested writes of related documents,
//! population on read, and filters through relationships. Documents call in here around every
//! write, delete and read (`documents.rs`).

mod attribute;
mod delete;
mod link;
mod read;
mod write;

pub use attribute::{check_uid, create, delete_attribute, detach_collection, detach_database, update, UID_DESCRIPTION};
pub use delete::before_delete;
pub use read::{expand, nested_filters, populated, written};
pub use write::before_write;
