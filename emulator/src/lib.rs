//! An Appwrite-compatible server (Databases/TablesDB, Storage, Functions, Users/Account, Health)
//! on SQLite, faithful enough that the official SDKs and CLI talk to it unchanged.

pub mod auth;
pub mod clock;
pub mod context;
pub mod databases;
pub mod error;
pub mod events;
pub mod format;
pub mod functions;
pub mod health;
pub mod ids;
pub mod keys;
pub mod params;
pub mod permissions;
pub mod php;
pub mod query;
pub mod response;
pub mod scope;
pub mod server;
pub mod state;
pub mod storage;
pub mod store;
pub mod transcription;
pub mod users;

pub use server::{router, serve};
pub use state::{AppState, Config};
