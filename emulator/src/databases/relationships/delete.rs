//! `onDelete` when a document is deleted (utopia's `deleteRestrict`, `deleteSetNull` and
//! `deleteCascade`), all inside the caller's SQLite transaction so a refused delete anywhere in a
//! cascade changes nothing.

use rusqlite::Transaction;

use super::super::documents::Access;
use super::super::records::{self, Stored};
use super::super::schema::CollectionSchema;
use super::super::store;
use super::super::Api;
use super::link::{Kind, Link, OnDelete, Side};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// What a cascade has already visited: documents being deleted and relationships walked.
#[derive(Default)]
struct Cascade {
    deleting: Vec<(i64, i64)>,
    walking: Vec<i64>,
}

/// Every relationship end a document of `s` sits on: its own relationship attributes, and the
/// child ends of one-way relationships pointing at `s`.
pub fn sides(tx: &Transaction, s: &CollectionSchema) -> ApiResult<Vec<(Link, Side)>> {
    let mut out = Vec::new();
    for a in s.attributes.iter().filter(|a| a.is_relationship() && a.status == "available") {
        if let Some(l) = Link::of(tx, &s.collection, a)? {
            out.push((l, Side::of(a)));
        }
    }
    for l in Link::hidden_into(tx, &s.collection)? {
        out.push((l, Side::Child));
    }
    Ok(out)
}

/// Applies `onDelete` of every relationship of `current` before it is deleted.
pub fn before_delete(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, current: &Stored) -> ApiResult<()> {
    let mut c = Cascade::default();
    on_delete(tx, s, api, access, current, &mut c)
}

fn on_delete(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, doc: &Stored, c: &mut Cascade) -> ApiResult<()> {
    c.deleting.push((s.collection.seq, doc.seq));
    let id = doc.id().to_string();
    let now = access.now.clone();
    for (link, side) in sides(tx, s)? {
        let other = Link::other(side);
        let related = existing(tx, &link, side, &id)?;
        match link.on_delete(side) {
            OnDelete::Restrict => {
                let blocked = match (link.kind, side) {
                    (Kind::ManyToOne, Side::Child) => !related.is_empty(),
                    (Kind::ManyToOne, Side::Parent) => false,
                    (_, Side::Parent) => !related.is_empty(),
                    _ => false,
                };
                if blocked {
                    return Err(ApiError::of(api.delete_restricted()));
                }
                if link.kind == Kind::OneToOne && side == Side::Child && !link.two_way() {
                    link.forget(tx, side, &id, &now)?;
                }
            }
            OnDelete::SetNull => link.forget(tx, side, &id, &now)?,
            OnDelete::Cascade => {
                if c.walking.contains(&link.parent.seq) {
                    continue;
                }
                let targets: Vec<String> = match (link.kind, side) {
                    (Kind::OneToOne, Side::Child) if !link.two_way() => Vec::new(),
                    (Kind::OneToMany, Side::Child) | (Kind::ManyToOne, Side::Parent) => Vec::new(),
                    (Kind::ManyToMany, Side::Child) => Vec::new(),
                    _ => related,
                };
                c.walking.push(link.parent.seq);
                let r = schema_of(tx, link.collection(other))?;
                for t in targets {
                    delete_related(tx, &r, api, access, &t, c)?;
                }
                c.walking.pop();
            }
        }
        // Links kept in the junction or in other rows would otherwise outlive the document.
        if link.kind == Kind::ManyToMany {
            link.forget(tx, side, &id, &now)?;
        }
    }
    Ok(())
}

/// IDs of the related documents that still exist (a link to a deleted document counts as none).
fn existing(tx: &Transaction, link: &Link, side: Side, id: &str) -> ApiResult<Vec<String>> {
    let other = link.collection(Link::other(side)).table();
    let mut st = tx.prepare_cached(&format!("SELECT EXISTS(SELECT 1 FROM \"{other}\" WHERE _uid = ?1)"))?;
    let mut out = Vec::new();
    for r in link.related_ids(tx, side, id)? {
        if st.query_row([&r], |row| row.get::<_, bool>(0))? {
            out.push(r);
        }
    }
    Ok(out)
}

fn schema_of(tx: &Transaction, coll: &store::CollectionRow) -> ApiResult<CollectionSchema> {
    let db = store::database_by_seq(tx, coll.database_seq)?.ok_or_else(|| ApiError::internal("database vanished"))?;
    CollectionSchema::load(tx, db, coll.clone())
}

/// A cascaded delete: the caller needs delete permission on it too (utopia deletes with
/// authorization on), and its own relationships are handled first.
fn delete_related(tx: &Transaction, r: &CollectionSchema, api: Api, access: &Access, id: &str, c: &mut Cascade) -> ApiResult<()> {
    let Some(doc) = records::fetch(tx, r, api, access.format, id)? else { return Ok(()) };
    if c.deleting.contains(&(r.collection.seq, doc.seq)) {
        return Ok(());
    }
    access.allow(r, permissions::DELETE, Some(&doc.permissions()))?;
    on_delete(tx, r, api, access, &doc, c)?;
    records::delete(tx, r, doc.seq)
}
