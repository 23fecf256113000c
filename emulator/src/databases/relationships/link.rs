//! One relationship and where its links live, following utopia's layout: oneToOne on the parent
//! (and on the child when two-way), manyToOne on the parent, oneToMany on the child, manyToMany in
//! a junction table. Every link is the ID of the related document; every table and column name is
//! generated from sequences, never taken from a request.

use rusqlite::{params, OptionalExtension, Transaction};

use super::super::store::{self, AttributeRow, CollectionRow};
use crate::error::{ApiError, ApiResult};

/// The four relationship types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OneToOne,
    OneToMany,
    ManyToOne,
    ManyToMany,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "oneToOne" => Some(Kind::OneToOne),
            "oneToMany" => Some(Kind::OneToMany),
            "manyToOne" => Some(Kind::ManyToOne),
            "manyToMany" => Some(Kind::ManyToMany),
            _ => None,
        }
    }
}

/// Which end of a relationship an attribute (or a document) is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Parent,
    Child,
}

impl Side {
    pub fn of(a: &AttributeRow) -> Side {
        if a.opt_str("side") == Some("child") {
            Side::Child
        } else {
            Side::Parent
        }
    }
}

/// What deleting a document does to the documents related to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    Restrict,
    Cascade,
    SetNull,
}

impl OnDelete {
    pub fn parse(s: &str) -> Option<OnDelete> {
        match s {
            "restrict" => Some(OnDelete::Restrict),
            "cascade" => Some(OnDelete::Cascade),
            "setNull" => Some(OnDelete::SetNull),
            _ => None,
        }
    }
}

/// A relationship with both of its ends resolved.
#[derive(Debug, Clone)]
pub struct Link {
    pub kind: Kind,
    /// The attribute the relationship was created as.
    pub parent: AttributeRow,
    /// The attribute on the related collection (two-way relationships only).
    pub child: Option<AttributeRow>,
    pub parent_coll: CollectionRow,
    pub child_coll: CollectionRow,
}

impl Link {
    /// The relationship `a` (either side) of collection `owner` belongs to; `None` if the other end
    /// is gone.
    pub fn of(tx: &Transaction, owner: &CollectionRow, a: &AttributeRow) -> ApiResult<Option<Link>> {
        let kind = Kind::parse(a.opt_str("relationType").unwrap_or_default()).unwrap_or(Kind::OneToOne);
        let related_id = a.opt_str("relatedCollection").unwrap_or_default();
        let Some(other) = store::get_collection(tx, owner.database_seq, related_id)? else { return Ok(None) };
        let two_way_key = a.opt_str("twoWayKey").unwrap_or_default();
        let opposite = |coll: &CollectionRow, side: &str| -> ApiResult<Option<AttributeRow>> {
            Ok(store::attributes_of(tx, coll.seq)?
                .into_iter()
                .find(|x| x.is_relationship() && x.key == two_way_key && x.opt_str("side") == Some(side)))
        };
        Ok(match Side::of(a) {
            Side::Parent => {
                let child = if a.opt_bool("twoWay") { opposite(&other, "child")? } else { None };
                Some(Link { kind, parent: a.clone(), child, parent_coll: owner.clone(), child_coll: other })
            }
            Side::Child => opposite(&other, "parent")?
                .map(|parent| Link { kind, parent, child: Some(a.clone()), parent_coll: other, child_coll: owner.clone() }),
        })
    }

    /// One-way relationships whose related collection is `coll`: their child end has no attribute
    /// but still matters for `onDelete` (utopia keeps a hidden child attribute for them).
    pub fn hidden_into(tx: &Transaction, coll: &CollectionRow) -> ApiResult<Vec<Link>> {
        let mut st = tx.prepare_cached(&format!(
            "SELECT {} FROM attributes a JOIN collections c ON c.seq = a.collection_seq
             WHERE c.database_seq = ?1 AND a.type = 'relationship'
               AND json_extract(a.options, '$.side') = 'parent'
               AND json_extract(a.options, '$.relatedCollection') = ?2
               AND NOT COALESCE(json_extract(a.options, '$.twoWay'), 0)
             ORDER BY a.seq",
            store::ATTRIBUTE_COLS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let attrs = st.query_map(params![coll.database_seq, coll.id], store::map_attribute)?.collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for a in attrs {
            let Some(owner) = store::collection_by_seq(tx, a.collection_seq)? else { continue };
            if let Some(l) = Link::of(tx, &owner, &a)? {
                out.push(l);
            }
        }
        Ok(out)
    }

    pub fn two_way(&self) -> bool {
        self.parent.opt_bool("twoWay")
    }

    /// The attribute of `side`, if that end has one.
    pub fn attribute(&self, side: Side) -> Option<&AttributeRow> {
        match side {
            Side::Parent => Some(&self.parent),
            Side::Child => self.child.as_ref(),
        }
    }

    /// The collection on `side`.
    pub fn collection(&self, side: Side) -> &CollectionRow {
        match side {
            Side::Parent => &self.parent_coll,
            Side::Child => &self.child_coll,
        }
    }

    pub fn on_delete(&self, side: Side) -> OnDelete {
        let a = self.attribute(side).unwrap_or(&self.parent);
        OnDelete::parse(a.opt_str("onDelete").unwrap_or("restrict")).unwrap_or(OnDelete::Restrict)
    }

    /// True when a document on `side` relates to many documents (its value is a list).
    pub fn many(&self, side: Side) -> bool {
        matches!((self.kind, side), (Kind::OneToMany, Side::Parent) | (Kind::ManyToOne, Side::Child) | (Kind::ManyToMany, _))
    }

    /// The parent's column holding the child's ID (oneToOne, manyToOne).
    pub fn parent_column(&self) -> Option<String> {
        matches!(self.kind, Kind::OneToOne | Kind::ManyToOne).then(|| self.parent.column())
    }

    /// The child's column holding the parent's ID (two-way oneToOne, oneToMany). A one-way
    /// oneToMany has no child attribute, so its column is named after the parent attribute.
    pub fn child_column(&self) -> Option<String> {
        match self.kind {
            Kind::OneToOne => self.child.as_ref().filter(|_| self.two_way()).map(AttributeRow::column),
            Kind::OneToMany => Some(match &self.child {
                Some(c) => c.column(),
                None => hidden_column(&self.parent),
            }),
            _ => None,
        }
    }

    /// The manyToMany junction table: `(p, c)` pairs of parent and child IDs.
    pub fn junction(&self) -> String {
        junction_table(self.parent.seq)
    }

    /// The other end's side.
    pub fn other(side: Side) -> Side {
        match side {
            Side::Parent => Side::Child,
            Side::Child => Side::Parent,
        }
    }

    /// IDs of the documents related to `id` (a document on `side`), in the order Appwrite lists
    /// them: by the related documents' sequence, or junction order for manyToMany.
    pub fn related_ids(&self, tx: &Transaction, side: Side, id: &str) -> ApiResult<Vec<String>> {
        let (p, c) = (self.parent_coll.table(), self.child_coll.table());
        let sql = match (self.kind, side) {
            (Kind::ManyToMany, Side::Parent) => format!("SELECT c FROM \"{}\" WHERE p = ?1 ORDER BY seq", self.junction()),
            (Kind::ManyToMany, Side::Child) => format!("SELECT p FROM \"{}\" WHERE c = ?1 ORDER BY seq", self.junction()),
            (Kind::OneToOne | Kind::ManyToOne, Side::Parent) => {
                format!("SELECT \"{}\" FROM \"{p}\" WHERE _uid = ?1 AND \"{0}\" IS NOT NULL", self.parent.column())
            }
            (Kind::OneToOne | Kind::ManyToOne, Side::Child) => {
                format!("SELECT _uid FROM \"{p}\" WHERE \"{}\" = ?1 ORDER BY _seq", self.parent.column())
            }
            (Kind::OneToMany, Side::Parent) => {
                format!("SELECT _uid FROM \"{c}\" WHERE \"{}\" = ?1 ORDER BY _seq", self.child_column().unwrap_or_default())
            }
            (Kind::OneToMany, Side::Child) => {
                format!("SELECT \"{}\" FROM \"{c}\" WHERE _uid = ?1 AND \"{0}\" IS NOT NULL", self.child_column().unwrap_or_default())
            }
        };
        let mut st = tx.prepare_cached(&sql)?;
        let ids = st.query_map([id], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Records that `parent` relates to `child`, touching `$updatedAt` of a document whose
    /// column changes.
    pub fn connect(&self, tx: &Transaction, parent: &str, child: &str, now: &str) -> ApiResult<()> {
        match self.kind {
            Kind::ManyToMany => {
                tx.prepare_cached(&format!("INSERT OR IGNORE INTO \"{}\" (p, c) VALUES (?1, ?2)", self.junction()))?
                    .execute(params![parent, child])?;
            }
            Kind::OneToMany => set_column(tx, &self.child_coll, &self.child_column().unwrap_or_default(), child, Some(parent), now)?,
            Kind::ManyToOne => set_column(tx, &self.parent_coll, &self.parent.column(), parent, Some(child), now)?,
            Kind::OneToOne => {
                set_column(tx, &self.parent_coll, &self.parent.column(), parent, Some(child), now)?;
                if let Some(col) = self.child_column() {
                    set_column(tx, &self.child_coll, &col, child, Some(parent), now)?;
                }
            }
        }
        Ok(())
    }

    /// Removes the relation between `parent` and `child`.
    pub fn disconnect(&self, tx: &Transaction, parent: &str, child: &str, now: &str) -> ApiResult<()> {
        match self.kind {
            Kind::ManyToMany => {
                tx.prepare_cached(&format!("DELETE FROM \"{}\" WHERE p = ?1 AND c = ?2", self.junction()))?
                    .execute(params![parent, child])?;
            }
            Kind::OneToMany => clear_column(tx, &self.child_coll, &self.child_column().unwrap_or_default(), Some(child), parent, now)?,
            Kind::ManyToOne => clear_column(tx, &self.parent_coll, &self.parent.column(), Some(parent), child, now)?,
            Kind::OneToOne => {
                clear_column(tx, &self.parent_coll, &self.parent.column(), Some(parent), child, now)?;
                if let Some(col) = self.child_column() {
                    clear_column(tx, &self.child_coll, &col, Some(child), parent, now)?;
                }
            }
        }
        Ok(())
    }

    /// Forgets every link of `id` (a document on `side`) that is stored outside its own row.
    pub fn forget(&self, tx: &Transaction, side: Side, id: &str, now: &str) -> ApiResult<()> {
        match (self.kind, side) {
            (Kind::ManyToMany, Side::Parent) => {
                tx.prepare_cached(&format!("DELETE FROM \"{}\" WHERE p = ?1", self.junction()))?.execute([id])?;
            }
            (Kind::ManyToMany, Side::Child) => {
                tx.prepare_cached(&format!("DELETE FROM \"{}\" WHERE c = ?1", self.junction()))?.execute([id])?;
            }
            (Kind::OneToMany, Side::Parent) => {
                clear_column(tx, &self.child_coll, &self.child_column().unwrap_or_default(), None, id, now)?
            }
            (Kind::OneToOne | Kind::ManyToOne, Side::Child) => {
                clear_column(tx, &self.parent_coll, &self.parent.column(), None, id, now)?
            }
            (Kind::OneToOne, Side::Parent) => {
                if let Some(col) = self.child_column() {
                    clear_column(tx, &self.child_coll, &col, None, id, now)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The SQL selecting, for documents of `side` (as `_uid`), those related to any document the
    /// inner `related` select (of `_uid`s on the other side) yields.
    pub fn filter_sql(&self, side: Side, related: &str) -> String {
        let (p, c) = (self.parent_coll.table(), self.child_coll.table());
        match (self.kind, side) {
            (Kind::ManyToMany, Side::Parent) => format!("_uid IN (SELECT p FROM \"{}\" WHERE c IN ({related}))", self.junction()),
            (Kind::ManyToMany, Side::Child) => format!("_uid IN (SELECT c FROM \"{}\" WHERE p IN ({related}))", self.junction()),
            (Kind::OneToOne | Kind::ManyToOne, Side::Parent) => format!("\"{}\" IN ({related})", self.parent.column()),
            (Kind::OneToOne | Kind::ManyToOne, Side::Child) => {
                format!("_uid IN (SELECT \"{}\" FROM \"{p}\" WHERE _uid IN ({related}))", self.parent.column())
            }
            (Kind::OneToMany, Side::Parent) => {
                format!("_uid IN (SELECT \"{}\" FROM \"{c}\" WHERE _uid IN ({related}))", self.child_column().unwrap_or_default())
            }
            (Kind::OneToMany, Side::Child) => format!("\"{}\" IN ({related})", self.child_column().unwrap_or_default()),
        }
    }

    /// The generated names of the SQL indexes utopia puts on the link columns.
    pub fn index_names(&self) -> (String, String) {
        (format!("_c{}_ri{}", self.parent_coll.seq, self.parent.seq), format!("_c{}_rj{}", self.child_coll.seq, self.parent.seq))
    }
}

/// The junction table of the manyToMany relationship created as attribute `parent_seq`.
pub fn junction_table(parent_seq: i64) -> String {
    format!("_j{parent_seq}")
}

/// The column of a one-way oneToMany on its child table.
pub fn hidden_column(parent: &AttributeRow) -> String {
    format!("_r{}", parent.seq)
}

fn set_column(tx: &Transaction, coll: &CollectionRow, col: &str, id: &str, value: Option<&str>, now: &str) -> ApiResult<()> {
    tx.prepare_cached(&format!(
        "UPDATE \"{}\" SET \"{col}\" = ?1, _updated = ?2 WHERE _uid = ?3 AND \"{col}\" IS NOT ?1",
        coll.table()
    ))?
    .execute(params![value, now, id])
    .map_err(unique_violation)?;
    Ok(())
}

/// Sets `col` to NULL where it holds `value` (on document `id` only, if given).
fn clear_column(tx: &Transaction, coll: &CollectionRow, col: &str, id: Option<&str>, value: &str, now: &str) -> ApiResult<()> {
    match id {
        Some(id) => tx
            .prepare_cached(&format!("UPDATE \"{}\" SET \"{col}\" = NULL, _updated = ?1 WHERE _uid = ?2 AND \"{col}\" = ?3", coll.table()))?
            .execute(params![now, id, value])?,
        None => tx
            .prepare_cached(&format!("UPDATE \"{}\" SET \"{col}\" = NULL, _updated = ?1 WHERE \"{col}\" = ?2", coll.table()))?
            .execute(params![now, value])?,
    };
    Ok(())
}

/// A oneToOne link column is unique: a second document pointing at the same related document is
/// utopia's `Duplicate` ("Document already has a related document").
pub fn unique_violation(e: rusqlite::Error) -> ApiError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            ApiError::msg(crate::error::types::DOCUMENT_ALREADY_EXISTS, "Document already has a related document")
        }
        _ => e.into(),
    }
}

/// The stored link value of one column of document `id` (`None` when unset or missing).
pub fn column_value(tx: &Transaction, coll: &CollectionRow, col: &str, id: &str) -> ApiResult<Option<String>> {
    let v: Option<Option<String>> = tx
        .prepare_cached(&format!("SELECT \"{col}\" FROM \"{}\" WHERE _uid = ?1", coll.table()))?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(v.flatten())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn coll(seq: i64, id: &str) -> CollectionRow {
        CollectionRow {
            seq,
            database_seq: 1,
            database_id: "db".into(),
            id: id.into(),
            name: id.into(),
            enabled: true,
            document_security: false,
            permissions: Vec::new(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn attr(seq: i64, key: &str, side: &str, kind: &str, two_way: bool) -> AttributeRow {
        let mut options = serde_json::Map::new();
        options.insert("relationType".into(), json!(kind));
        options.insert("side".into(), json!(side));
        options.insert("twoWay".into(), json!(two_way));
        AttributeRow {
            seq,
            collection_seq: 0,
            key: key.into(),
            kind: "relationship".into(),
            format: String::new(),
            size: 0,
            required: false,
            array: false,
            default: serde_json::Value::Null,
            options,
            status: "available".into(),
            error: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn link(kind: Kind, two_way: bool) -> Link {
        let name = match kind {
            Kind::OneToOne => "oneToOne",
            Kind::OneToMany => "oneToMany",
            Kind::ManyToOne => "manyToOne",
            Kind::ManyToMany => "manyToMany",
        };
        Link {
            kind,
            parent: attr(7, "author'; DROP", "parent", name, two_way),
            child: two_way.then(|| attr(8, "books\"", "child", name, true)),
            parent_coll: coll(1, "books"),
            child_coll: coll(2, "authors"),
        }
    }

    #[test]
    fn list_valued_sides() {
        let l = |k| link(k, true);
        assert!(!l(Kind::OneToOne).many(Side::Parent) && !l(Kind::OneToOne).many(Side::Child));
        assert!(l(Kind::OneToMany).many(Side::Parent) && !l(Kind::OneToMany).many(Side::Child));
        assert!(!l(Kind::ManyToOne).many(Side::Parent) && l(Kind::ManyToOne).many(Side::Child));
        assert!(l(Kind::ManyToMany).many(Side::Parent) && l(Kind::ManyToMany).many(Side::Child));
    }

    #[test]
    fn storage_follows_utopia_layout() {
        assert_eq!(link(Kind::OneToOne, false).parent_column().as_deref(), Some("a7"));
        assert_eq!(link(Kind::OneToOne, false).child_column(), None);
        assert_eq!(link(Kind::OneToOne, true).child_column().as_deref(), Some("a8"));
        assert_eq!(link(Kind::OneToMany, true).child_column().as_deref(), Some("a8"));
        assert_eq!(link(Kind::OneToMany, false).child_column().as_deref(), Some("_r7"), "one-way oneToMany keeps a hidden column");
        assert_eq!(link(Kind::ManyToOne, true).parent_column().as_deref(), Some("a7"));
        assert_eq!(link(Kind::ManyToMany, true).junction(), "_j7");
    }

    #[test]
    fn filters_use_generated_names_only() {
        for kind in [Kind::OneToOne, Kind::OneToMany, Kind::ManyToOne, Kind::ManyToMany] {
            for side in [Side::Parent, Side::Child] {
                let sql = link(kind, true).filter_sql(side, "SELECT _uid FROM \"_c2\" WHERE \"a3\" IN (?)");
                assert!(!sql.contains("DROP") && !sql.contains("books") && !sql.contains("author"), "{sql}");
            }
        }
    }

    #[test]
    fn parses_options() {
        assert_eq!(Kind::parse("manyToMany"), Some(Kind::ManyToMany));
        assert_eq!(Kind::parse("many"), None);
        assert_eq!(OnDelete::parse("setNull"), Some(OnDelete::SetNull));
        assert_eq!(Side::of(&attr(1, "k", "child", "oneToOne", true)), Side::Child);
        assert_eq!(link(Kind::OneToMany, false).on_delete(Side::Child), OnDelete::Restrict, "a hidden child follows the parent");
    }
}
