//! Reading relationships the way 1.9.x does: without a `select` a document shows the IDs stored on
//! its side (virtual sides are absent); `select(["*", "author.*"])` populates `author`, up to
//! three levels; write responses are populated in full. Also filters through relationships
//! (`Query.equal("author.name", …)`), compiled to SQL subqueries.

use std::collections::BTreeMap;

use rusqlite::types::Value as Sql;
use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::super::documents::{self, Access};
use super::super::records::{self, Stored};
use super::super::schema::CollectionSchema;
use super::super::store::{self, AttributeRow};
use super::super::Api;
use super::link::{Link, Side};
use super::write::{self, MAX_DEPTH};
use crate::error::{types, ApiError, ApiResult};
use crate::permissions;
use crate::query::{self, Compiled, Query};

/// Nested selections per relationship key (`author.name` → `author: ["name"]`).
type Selections = BTreeMap<String, Vec<String>>;

/// Splits a `select` list into the nested selections of `s`'s relationships.
fn nested_selections(s: &CollectionSchema, selection: &[String]) -> Selections {
    let mut out = Selections::new();
    for v in selection {
        let Some((top, rest)) = v.split_once('.') else { continue };
        if s.attribute(top).is_some_and(AttributeRow::is_relationship) {
            out.entry(top.to_string()).or_default().push(if rest.is_empty() { "*".into() } else { rest.to_string() });
        }
    }
    out
}

/// Adds related documents to `doc` as its `select` asks (the get/list path).
pub fn expand(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    doc: Map<String, Value>,
    selection: &Option<Vec<String>>,
) -> ApiResult<Map<String, Value>> {
    let Some(selection) = selection else { return Ok(doc) };
    let sels = nested_selections(s, selection);
    if sels.is_empty() {
        return Ok(doc);
    }
    let mut docs = vec![doc];
    populate(tx, s, api, access, &mut docs, 0, true, &sels, None)?;
    Ok(docs.pop().expect("one document"))
}

/// The document as a write answers it: re-read, with its relationships populated in full for the
/// request's own document (nested writes are not answered, so they are not populated).
pub fn written(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, id: &str) -> ApiResult<Stored> {
    let stored = records::fetch(tx, s, api, access.format, id)?.ok_or_else(|| ApiError::internal("document vanished after write"))?;
    if write::depth() > 0 || !s.attributes.iter().any(AttributeRow::is_relationship) {
        return Ok(stored);
    }
    let mut docs = vec![stored.doc];
    populate(tx, s, api, access, &mut docs, 0, false, &Selections::new(), None)?;
    Ok(Stored { seq: stored.seq, doc: docs.pop().expect("one document") })
}

/// A document with every relationship populated (utopia without `skipRelationships`), as reads
/// inside a transaction answer in 1.9.6 when they carry no `select`.
pub fn populated(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, doc: Map<String, Value>) -> ApiResult<Map<String, Value>> {
    if !s.attributes.iter().any(AttributeRow::is_relationship) {
        return Ok(doc);
    }
    let mut docs = vec![doc];
    populate(tx, s, api, access, &mut docs, 0, false, &Selections::new(), None)?;
    Ok(docs.pop().expect("one document"))
}

fn schema_of(tx: &Transaction, coll: &store::CollectionRow) -> ApiResult<CollectionSchema> {
    let db = store::database_by_seq(tx, coll.database_seq)?.ok_or_else(|| ApiError::internal("database vanished"))?;
    CollectionSchema::load(tx, db, coll.clone())
}

/// utopia's `populateDocumentsRelationships`: `explicit` when a select chose what to populate.
#[allow(clippy::too_many_arguments)]
fn populate(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    docs: &mut [Map<String, Value>],
    depth: usize,
    explicit: bool,
    sels: &Selections,
    skip_key: Option<&str>,
) -> ApiResult<()> {
    for a in s.attributes.iter().filter(|a| a.is_relationship() && a.status == "available") {
        if Some(a.key.as_str()) == skip_key || (explicit && !sels.contains_key(&a.key)) {
            continue;
        }
        if depth + 1 >= MAX_DEPTH {
            for d in docs.iter_mut() {
                d.remove(&a.key);
            }
            continue;
        }
        let Some(link) = Link::of(tx, &s.collection, a)? else { continue };
        let side = Side::of(a);
        let r = schema_of(tx, link.collection(Link::other(side)))?;
        let nested = sels.get(&a.key).cloned();
        let next = nested.as_ref().map(|n| nested_selections(&r, n)).unwrap_or_default();
        let back = if link.two_way() { link.attribute(Link::other(side)).map(|x| x.key.clone()) } else { None };
        for d in docs.iter_mut() {
            let id = d.get("$id").and_then(Value::as_str).unwrap_or_default().to_string();
            let mut related = Vec::new();
            for rid in link.related_ids(tx, side, &id)? {
                if let Some(found) = records::fetch(tx, &r, api, access.format, &rid)?.filter(|x| access.can_read(&r, x)) {
                    related.push(found.doc);
                }
            }
            populate(tx, &r, api, access, &mut related, depth + 1, explicit, &next, back.as_deref())?;
            let related: Vec<Value> = related
                .into_iter()
                .map(|mut x| {
                    if let Some(b) = &back {
                        x.remove(b);
                    }
                    Value::Object(documents::project(&x, &nested))
                })
                .collect();
            let value = if link.many(side) { Value::Array(related) } else { related.into_iter().next().unwrap_or(Value::Null) };
            d.insert(a.key.clone(), value);
        }
    }
    Ok(())
}

const NOT_FILTERS: &[&str] =
    &["select", "limit", "offset", "cursorAfter", "cursorBefore", "orderAsc", "orderDesc", "orderRandom", "and", "or", "elemMatch"];

/// Takes the filters through relationships (`author.name`) out of `queries` and returns the rest
/// with the SQL condition they stand for (on `_uid` or this side's link column).
pub fn nested_filters(tx: &Transaction, s: &CollectionSchema, access: &Access, queries: &[String]) -> ApiResult<(Vec<String>, Compiled)> {
    let mut cond = Compiled::default();
    if !s.attributes.iter().any(AttributeRow::is_relationship) || !queries.iter().any(|q| q.contains('.')) {
        return Ok((queries.to_vec(), cond));
    }
    query::parse_all(queries)?;
    let mut rest = Vec::new();
    let mut groups: BTreeMap<String, Vec<Query>> = BTreeMap::new();
    for raw in queries {
        let q = Query::parse(raw).map_err(|m| ApiError::msg(types::GENERAL_QUERY_INVALID, m))?;
        let through = (!NOT_FILTERS.contains(&q.method.as_str()))
            .then(|| q.attribute.split_once('.'))
            .flatten()
            .filter(|(top, _)| s.attribute(top).is_some_and(|a| a.is_relationship() && a.status == "available"));
        match through {
            Some((top, inner)) => {
                let inner = Query { attribute: inner.to_string(), ..q.clone() };
                groups.entry(top.to_string()).or_default().push(inner);
            }
            None => rest.push(raw.clone()),
        }
    }
    for (top, inner) in groups {
        let mut equal_on = Vec::new();
        for q in inner.iter().filter(|q| q.method == "equal") {
            if equal_on.contains(&q.attribute) {
                return Err(ApiError::msg(
                    types::GENERAL_QUERY_INVALID,
                    format!(
                        "Multiple equal queries on '{top}.{}' will never match a single document. Use Query::containsAll() to match across different related documents.",
                        q.attribute
                    ),
                ));
            }
            equal_on.push(q.attribute.clone());
        }
        let a = s.attribute(&top).expect("grouped by relationship key");
        let Some(link) = Link::of(tx, &s.collection, a)? else { continue };
        let side = Side::of(a);
        let r = schema_of(tx, link.collection(Link::other(side)))?;
        let raw: Vec<String> = inner.iter().map(to_raw).collect();
        let (remaining, deeper) = nested_filters(tx, &r, access, &raw)?;
        let grouped = query::parse_all(&remaining)?;
        query::validate(&grouped, &r, true).map_err(|m| ApiError::msg(types::GENERAL_QUERY_INVALID, m))?;
        let mut inner_cond = Compiled::default();
        query::sql::filters(&grouped.filters, &r, &mut inner_cond);
        if !deeper.sql.is_empty() {
            inner_cond.push(&deeper.sql, deeper.params.clone());
        }
        if !access.is_key && permissions::authorize(&r.collection.permissions, permissions::READ, &access.roles).is_err() {
            match records::read_visibility(&r, &access.roles) {
                Some((sql, params)) if r.collection.document_security => inner_cond.push(&sql, params),
                _ => inner_cond.push("1 = 0", Vec::<Sql>::new()),
            }
        }
        let related = format!("SELECT _uid FROM \"{}\"{}", r.collection.table(), inner_cond.where_clause());
        cond.push(&link.filter_sql(side, &related), inner_cond.params);
    }
    Ok((rest, cond))
}

fn to_raw(q: &Query) -> String {
    json!({"method": q.method, "attribute": q.attribute, "values": q.values}).to_string()
}
