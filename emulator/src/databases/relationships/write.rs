//! Writing relationship values: IDs, nested documents (created or updated in the related
//! collection) and lists of them, with utopia's validation messages and its depth limit.

use std::cell::RefCell;

use rusqlite::Transaction;
use serde_json::{Map, Value};

use super::super::documents::{self, Access};
use super::super::records;
use super::super::schema::{stores_column, CollectionSchema};
use super::super::store::{self, AttributeRow};
use super::super::Api;
use super::link::{column_value, Kind, Link, Side};
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::permissions;

/// utopia's `Database::RELATION_MAX_DEPTH`.
pub const MAX_DEPTH: usize = 3;

thread_local! {
    /// Collections whose relationship values are being written, outermost first. A nested write
    /// goes through `documents::create_one`/`update_one` (shared signatures), so the nesting is
    /// carried here; a request runs on one blocking thread from start to end.
    static STACK: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

/// How many relationship writes enclose the current one (0 for a request's own document).
pub fn depth() -> usize {
    STACK.with(|s| s.borrow().len())
}

struct Frame;

impl Frame {
    fn push(collection_seq: i64) -> Frame {
        STACK.with(|s| s.borrow_mut().push(collection_seq));
        Frame
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        STACK.with(|s| {
            s.borrow_mut().pop();
        });
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::msg(types::RELATIONSHIP_VALUE_INVALID, message)
}

/// The handler-level check of every relation (`Action::validateRelationship`): an object, an ID
/// string or a map with a valid `$id`.
fn validate_relation(v: &Value) -> ApiResult<()> {
    let id = match v {
        Value::String(_) => Some(v),
        Value::Object(o) => o.get("$id"),
        _ => return Err(invalid("Relationship value must be an object, document ID string, or associative array")),
    };
    match id {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == "unique()" || ids::is_valid_id(s) => Ok(()),
        Some(Value::String(_)) => Err(invalid(ids::ID_DESCRIPTION)),
        Some(_) => Err(invalid("Relationship $id must be a string")),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

fn php_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "double",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Resolves the relationship values of a write (`data` as the client sent it) into the link IDs
/// stored on this document's side, creating, updating and linking related documents on the way.
/// `perms` are the document's permissions, inherited by nested documents created without any.
#[allow(clippy::too_many_arguments)]
pub fn before_write(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    id: &str,
    data: &Map<String, Value>,
    perms: &[String],
    mut values: Map<String, Value>,
) -> ApiResult<Map<String, Value>> {
    let relationships: Vec<&AttributeRow> = s.attributes.iter().filter(|a| a.is_relationship()).collect();
    if relationships.is_empty() {
        return Ok(values);
    }
    let creating = records::fetch(tx, s, api, access.format, id)?.is_none();
    let stack = STACK.with(|st| st.borrow().clone());
    for a in relationships {
        let Some(value) = data.get(&a.key) else { continue };
        let Some(link) = Link::of(tx, &s.collection, a)? else { continue };
        let side = Side::of(a);
        let other = link.collection(Link::other(side)).clone();
        // utopia stops writing relationships three levels down, except back to the parent.
        if stack.len() >= MAX_DEPTH - 1 && stack.last() != Some(&other.seq) {
            // The value is dropped: a new document has no link, an existing one keeps its own.
            let kept = match (creating, stores_column(a)) {
                (false, true) => column_value(tx, &s.collection, &a.column(), id)?.map(Value::String).unwrap_or(Value::Null),
                _ => Value::Null,
            };
            values.insert(a.key.clone(), kept);
            continue;
        }
        if !is_empty(value) {
            match value {
                Value::Array(items) => items.iter().try_for_each(validate_relation)?,
                v => validate_relation(v)?,
            }
        }
        let _frame = Frame::push(s.collection.seq);
        let w = Writer { tx, api, access, link: &link, side, id, perms, creating };
        if link.many(side) {
            w.write_many(value)?;
            values.remove(&a.key);
        } else {
            let stored = w.write_one(value)?;
            values.insert(a.key.clone(), stored.map(Value::String).unwrap_or(Value::Null));
        }
    }
    Ok(values)
}

/// One relationship value being written for document `id` on `side`.
struct Writer<'a> {
    tx: &'a Transaction<'a>,
    api: Api,
    access: &'a Access,
    link: &'a Link,
    side: Side,
    id: &'a str,
    perms: &'a [String],
    creating: bool,
}

impl Writer<'_> {
    fn related_schema(&self) -> ApiResult<CollectionSchema> {
        let coll = self.link.collection(Link::other(self.side)).clone();
        let db = store::database_by_seq(self.tx, coll.database_seq)?.ok_or_else(|| ApiError::internal("database vanished"))?;
        CollectionSchema::load(self.tx, db, coll)
    }

    /// (parent ID, child ID) of a pair linking this document to `other`.
    fn pair<'b>(&'b self, other: &'b str) -> (&'b str, &'b str) {
        match self.side {
            Side::Parent => (self.id, other),
            Side::Child => (other, self.id),
        }
    }

    fn now(&self) -> &str {
        &self.access.now
    }

    /// The key the related documents use for this relationship (set by utopia on nested writes).
    fn back_key(&self) -> Option<String> {
        self.link.attribute(Link::other(self.side)).map(|a| a.key.clone())
    }

    /// A related document given as an object: created with this document's permissions when new,
    /// updated otherwise. Returns its ID.
    fn nested(&self, r: &CollectionSchema, obj: &Map<String, Value>) -> ApiResult<String> {
        let mut data = obj.clone();
        let id = match data.get("$id").and_then(Value::as_str) {
            Some(x) if x != "unique()" => x.to_string(),
            _ => ids::unique(),
        };
        data.remove("$id");
        if let Some(k) = self.back_key() {
            data.remove(&k);
        }
        let perms = match data.remove("$permissions") {
            Some(Value::Array(a)) => Some(a.iter().filter_map(|v| v.as_str().map(String::from)).collect::<Vec<_>>()),
            _ => None,
        };
        match records::fetch(self.tx, r, self.api, self.access.format, &id)? {
            None => {
                let perms = perms.unwrap_or_else(|| self.perms.to_vec());
                documents::create_one(self.tx, r, self.api, self.access, &id, data, Some(perms))?;
            }
            Some(current) => {
                documents::update_one(self.tx, r, self.api, self.access, &current, data, perms, false)?;
            }
        }
        Ok(id)
    }

    /// A related document named by ID that the caller can see, if it exists.
    fn visible(&self, r: &CollectionSchema, other: &str) -> ApiResult<Option<records::Stored>> {
        Ok(records::fetch(self.tx, r, self.api, self.access.format, other)?.filter(|d| self.access.can_read(r, d)))
    }

    /// Linking by ID changes the related document's row (its link column), which utopia does with
    /// an authorized update.
    fn may_update(&self, r: &CollectionSchema, doc: &records::Stored) -> ApiResult<()> {
        if self.link.kind == Kind::ManyToMany {
            return Ok(());
        }
        self.access.allow(r, permissions::UPDATE, Some(&doc.permissions()))
    }

    fn connect(&self, other: &str) -> ApiResult<()> {
        let (p, c) = self.pair(other);
        self.link.connect(self.tx, p, c, self.now()).map_err(|e| self.duplicate(e))
    }

    fn duplicate(&self, e: ApiError) -> ApiError {
        if e.ty == types::DOCUMENT_ALREADY_EXISTS {
            ApiError::with_arg(self.api.document_exists(), self.id)
        } else {
            e
        }
    }

    /// A single-valued side: returns the ID stored in this document's own column.
    fn write_one(&self, value: &Value) -> ApiResult<Option<String>> {
        let link = self.link;
        if link.kind == Kind::OneToOne && self.side == Side::Child && !link.two_way() {
            return Err(invalid(
                "Invalid relationship value. Cannot set a value from the child side of a oneToOne relationship when twoWay is false.",
            ));
        }
        let r = self.related_schema()?;
        let mirrored = link.kind == Kind::OneToOne && link.two_way();
        let old = if self.creating { None } else { link.related_ids(self.tx, self.side, self.id)?.into_iter().next() };
        let target = match value {
            Value::Null => None,
            Value::String(other) => {
                if self.creating {
                    // utopia keeps an ID it cannot resolve on create (the related document may be
                    // written later in the same request, as nested children are).
                    match self.visible(&r, other)? {
                        Some(doc) if mirrored => {
                            self.may_update(&r, &doc)?;
                            Some(other.clone())
                        }
                        _ => Some(other.clone()),
                    }
                } else {
                    match self.visible(&r, other)? {
                        None => None,
                        Some(doc) => {
                            if mirrored && old.as_deref() != Some(other.as_str()) {
                                self.already_linked(&r, other)?;
                                self.may_update(&r, &doc)?;
                            }
                            Some(other.clone())
                        }
                    }
                }
            }
            Value::Object(obj) => {
                if mirrored && !self.creating {
                    if let Some(other) = obj.get("$id").and_then(Value::as_str) {
                        if old.as_deref() != Some(other) {
                            self.already_linked(&r, other)?;
                        }
                    }
                }
                Some(self.nested(&r, obj)?)
            }
            Value::Array(_) if self.creating => {
                return Err(invalid("Invalid relationship value. Must be either a document ID or a document, array given."))
            }
            Value::Array(_) => {
                return Err(invalid(match link.kind {
                    Kind::OneToOne if !link.two_way() => "Invalid relationship value. Must be either a document, document ID or null. Array given.",
                    Kind::OneToOne => "Invalid relationship value. Must be either a document, document ID or null.",
                    _ => "Invalid relationship value. Must be either a document ID or a document, array given.",
                }))
            }
            _ => return Err(invalid("Invalid relationship value. Must be either a document, document ID, or an array of documents or document IDs.")),
        };
        if mirrored {
            if let Some(old) = old.as_deref().filter(|o| Some(*o) != target.as_deref()) {
                let (p, c) = self.pair(old);
                link.disconnect(self.tx, p, c, self.now())?;
            }
            if let Some(t) = &target {
                if records::fetch(self.tx, &r, self.api, self.access.format, t)?.is_some() {
                    self.connect(t)?;
                }
            }
        }
        Ok(target)
    }

    /// utopia refuses to take a two-way oneToOne partner that already has one.
    fn already_linked(&self, r: &CollectionSchema, other: &str) -> ApiResult<()> {
        let col = match self.side {
            Side::Parent => self.link.child_column(),
            Side::Child => self.link.parent_column(),
        };
        let Some(col) = col else { return Ok(()) };
        match column_value(self.tx, &r.collection, &col, other)? {
            Some(current) if current != self.id => Err(ApiError::with_arg(self.api.document_exists(), self.id)),
            _ => Ok(()),
        }
    }

    /// A list-valued side: links exactly the listed documents (creating or updating nested ones).
    fn write_many(&self, value: &Value) -> ApiResult<()> {
        let link = self.link;
        let items = match value {
            Value::Array(items) => items,
            Value::Null if self.creating || link.kind == Kind::ManyToMany => return Ok(()),
            Value::Null if link.related_ids(self.tx, self.side, self.id)?.is_empty() => return Ok(()),
            Value::Object(_) if self.creating => {
                return Err(invalid("Invalid relationship value. Must be either an array of documents or document IDs, document given."))
            }
            Value::String(_) if self.creating => {
                return Err(invalid("Invalid relationship value. Must be either an array of documents or document IDs, document ID given."))
            }
            _ if link.kind == Kind::ManyToMany => {
                return Err(invalid("Invalid relationship value. Must be an array of documents or document IDs."))
            }
            other => {
                return Err(invalid(format!(
                    "Invalid relationship value. Must be either an array of documents or document IDs, {} given.",
                    php_type(other)
                )))
            }
        };
        let r = self.related_schema()?;
        let old = if self.creating { Vec::new() } else { link.related_ids(self.tx, self.side, self.id)? };
        let wanted: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => o.get("$id").and_then(Value::as_str),
                _ => None,
            })
            .collect();
        for gone in old.iter().filter(|o| !wanted.contains(&o.as_str())) {
            let (p, c) = self.pair(gone);
            link.disconnect(self.tx, p, c, self.now())?;
        }
        for item in items {
            match item {
                Value::String(other) => {
                    // Already linked: nothing changes, so no update permission is needed.
                    if old.contains(other) {
                        continue;
                    }
                    let Some(doc) = self.visible(&r, other)? else { continue };
                    self.may_update(&r, &doc)?;
                    self.connect(other)?;
                }
                Value::Object(obj) => {
                    let other = self.nested(&r, obj)?;
                    self.connect(&other)?;
                }
                _ => return Err(invalid("Invalid relationship value. Must be either a document or document ID.")),
            }
        }
        Ok(())
    }
}
