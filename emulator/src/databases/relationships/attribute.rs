//! Relationship attributes themselves: create (both sides and their storage), update (`onDelete`,
//! `newKey`), delete (both sides), and cleanup when a collection goes away.

use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::super::schema::{stores_column, CollectionSchema};
use super::super::store::{self, AttributeRow, CollectionRow};
use super::super::{ddl, model, Api};
use super::link::{hidden_column, junction_table, Kind, Link, Side};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::response::{accepted, ok, Reply};

/// utopia's `UID` validator text (IDs of existing resources).
pub const UID_DESCRIPTION: &str =
    "UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore";

const TYPES: &str = "oneToOne, manyToOne, manyToMany, oneToMany";
const ON_DELETE: &str = "cascade, restrict, setNull";

/// Checks an ID parameter with utopia's `UID` validator.
pub fn check_uid(name: &str, value: &str) -> ApiResult<()> {
    if ids::is_valid_id(value) {
        Ok(())
    } else {
        Err(ApiError::invalid_param(name, UID_DESCRIPTION))
    }
}

fn one_of(p: &Params, name: &str, allowed: &str) -> ApiResult<Option<String>> {
    let Some(v) = p.get(name) else { return Ok(None) };
    if v.is_null() {
        return Ok(None);
    }
    match v.as_str() {
        Some(s) if allowed.split(", ").any(|x| x == s) => Ok(Some(s.to_string())),
        _ => Err(ApiError::invalid_param(name, &format!("Value must be one of ({allowed})"))),
    }
}

fn key_opt(p: &Params, name: &str) -> ApiResult<Option<String>> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if ids::is_valid_id(s) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_param(name, ids::KEY_DESCRIPTION)),
    }
}

/// The parameters of `POST …/attributes/relationship` (`…/columns/relationship`).
struct Request {
    related: String,
    kind: String,
    two_way: bool,
    key: String,
    two_way_key: String,
    two_way_key_given: bool,
    on_delete: String,
}

impl Request {
    fn parse(api: Api, p: &Params) -> ApiResult<Request> {
        let related_param = if api.is_legacy() { "relatedCollectionId" } else { "relatedTableId" };
        let related = p.str(related_param)?;
        check_uid(related_param, &related)?;
        let kind = one_of(p, "type", TYPES)?.ok_or_else(|| ApiError::missing_param("type"))?;
        let two_way = p.bool_opt("twoWay")?.unwrap_or(false);
        let key = key_opt(p, "key")?;
        let two_way_key = key_opt(p, "twoWayKey")?;
        let on_delete = one_of(p, "onDelete", ON_DELETE)?.unwrap_or_else(|| "restrict".into());
        let collection_id = p.path(api.collection_param()).to_string();
        Ok(Request {
            key: key.unwrap_or_else(|| related.clone()),
            two_way_key_given: two_way_key.is_some(),
            two_way_key: two_way_key.unwrap_or(collection_id),
            related,
            kind,
            two_way,
            on_delete,
        })
    }
}

fn require_schema(tx: &Transaction, api: Api, p: &Params) -> ApiResult<CollectionSchema> {
    CollectionSchema::require(tx, api, p.path("databaseId"), p.path(api.collection_param()), true)
}

fn new_attribute(collection_seq: i64, key: &str, options: Map<String, Value>, now: &str) -> AttributeRow {
    AttributeRow {
        seq: 0,
        collection_seq,
        key: key.to_string(),
        kind: "relationship".into(),
        format: String::new(),
        size: 0,
        required: false,
        array: false,
        default: Value::Null,
        options,
        status: "available".into(),
        error: String::new(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
    }
}

fn taken(attrs: &[AttributeRow], key: &str) -> bool {
    attrs.iter().any(|a| a.key.eq_ignore_ascii_case(key))
}

/// Creates the relationship (and its two-way child) with its columns, junction and indexes.
fn create_in(tx: &Transaction, api: Api, s: &CollectionSchema, r: &Request, now: &str) -> ApiResult<AttributeRow> {
    let related = store::get_collection(tx, s.database.seq, &r.related)?
        .ok_or_else(|| ApiError::with_arg(api.collection_not_found(), &r.related))?;
    for a in s.attributes.iter().filter(|a| a.is_relationship()) {
        if a.key.eq_ignore_ascii_case(&r.key) {
            return Err(ApiError::with_arg(api.attribute_exists(), &r.key));
        }
        let same_target = a.opt_str("relatedCollection") == Some(related.id.as_str());
        if same_target && a.opt_str("twoWayKey").unwrap_or_default().eq_ignore_ascii_case(&r.two_way_key) {
            let conflicting = if r.two_way_key_given { &r.two_way_key } else { &r.key };
            return Err(ApiError::with_arg(api.attribute_exists(), conflicting));
        }
        if same_target && r.kind == "manyToMany" && a.opt_str("relationType") == Some("manyToMany") {
            let parent = if api.is_legacy() { "collection" } else { "table" };
            return Err(ApiError::msg(
                api.attribute_exists(),
                format!("Creating more than one \"manyToMany\" relationship on the same {parent} is currently not permitted."),
            ));
        }
    }
    if taken(&s.attributes, &r.key) {
        return Err(ApiError::with_arg(api.attribute_exists(), &r.key));
    }
    let mut options = Map::new();
    options.insert("relatedCollection".into(), json!(related.id));
    options.insert("relationType".into(), json!(r.kind));
    options.insert("twoWay".into(), json!(r.two_way));
    options.insert("twoWayKey".into(), json!(r.two_way_key));
    options.insert("onDelete".into(), json!(r.on_delete));
    options.insert("side".into(), json!("parent"));
    let parent = store::insert_attribute(tx, &new_attribute(s.collection.seq, &r.key, options.clone(), now))?;
    if stores_column(&parent) {
        ddl::add_column(tx, &s.collection, &parent)?;
    }
    let mut child = None;
    if r.two_way {
        // The related collection may be this one (a self relationship): see the parent too.
        let related_attrs = store::attributes_of(tx, related.seq)?;
        if taken(&related_attrs, &r.two_way_key) {
            return Err(ApiError::with_arg(api.attribute_exists(), &r.two_way_key));
        }
        options.insert("relatedCollection".into(), json!(s.collection.id));
        options.insert("twoWayKey".into(), json!(r.key));
        options.insert("side".into(), json!("child"));
        let c = store::insert_attribute(tx, &new_attribute(related.seq, &r.two_way_key, options, now))?;
        if stores_column(&c) {
            ddl::add_column(tx, &related, &c)?;
        }
        child = Some(c);
    }
    let link = Link { kind: Kind::parse(&r.kind).expect("validated type"), parent: parent.clone(), child, parent_coll: s.collection.clone(), child_coll: related };
    create_storage(tx, &link)?;
    Ok(parent)
}

/// The junction table, the hidden column of a one-way oneToMany, and utopia's link indexes.
fn create_storage(tx: &Transaction, link: &Link) -> ApiResult<()> {
    let (pi, ci) = link.index_names();
    let (p, c) = (link.parent_coll.table(), link.child_coll.table());
    match link.kind {
        Kind::ManyToMany => {
            let j = link.junction();
            tx.execute_batch(&format!(
                r#"CREATE TABLE "{j}" (seq INTEGER PRIMARY KEY AUTOINCREMENT, p TEXT NOT NULL, c TEXT NOT NULL, UNIQUE (p, c));
                CREATE INDEX "{j}_c" ON "{j}" (c);"#
            ))?;
        }
        Kind::OneToMany => {
            let col = link.child_column().expect("oneToMany has a child column");
            if link.child.is_none() {
                tx.execute_batch(&format!(r#"ALTER TABLE "{c}" ADD COLUMN "{col}" TEXT"#))?;
            }
            tx.execute_batch(&format!(r#"CREATE INDEX "{ci}" ON "{c}" ("{col}")"#))?;
        }
        Kind::ManyToOne => {
            tx.execute_batch(&format!(r#"CREATE INDEX "{pi}" ON "{p}" ("{}")"#, link.parent.column()))?;
        }
        Kind::OneToOne => {
            tx.execute_batch(&format!(r#"CREATE UNIQUE INDEX "{pi}" ON "{p}" ("{}")"#, link.parent.column()))?;
            if let Some(col) = link.child_column() {
                tx.execute_batch(&format!(r#"CREATE UNIQUE INDEX "{ci}" ON "{c}" ("{col}")"#))?;
            }
        }
    }
    Ok(())
}

/// Drops both sides of a relationship and everything storing its links.
fn drop_link(tx: &Transaction, link: &Link) -> ApiResult<()> {
    let (pi, ci) = link.index_names();
    tx.execute_batch(&format!(r#"DROP INDEX IF EXISTS "{pi}"; DROP INDEX IF EXISTS "{ci}";"#))?;
    match link.kind {
        Kind::ManyToMany => tx.execute_batch(&format!(r#"DROP TABLE IF EXISTS "{}""#, link.junction()))?,
        Kind::OneToMany if link.child.is_none() && table_has_column(tx, &link.child_coll, &hidden_column(&link.parent))? => {
            tx.execute_batch(&format!(r#"ALTER TABLE "{}" DROP COLUMN "{}""#, link.child_coll.table(), hidden_column(&link.parent)))?;
        }
        _ => {}
    }
    for (coll, a) in [(Some(&link.parent_coll), Some(&link.parent)), (Some(&link.child_coll), link.child.as_ref())] {
        let (Some(coll), Some(a)) = (coll, a) else { continue };
        if stores_column(a) && table_has_column(tx, coll, &a.column())? {
            ddl::drop_column(tx, coll, a)?;
        }
        tx.execute("DELETE FROM attributes WHERE seq = ?1", [a.seq])?;
    }
    Ok(())
}

fn table_has_column(tx: &Transaction, coll: &CollectionRow, col: &str) -> ApiResult<bool> {
    let found: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
        rusqlite::params![coll.table(), col],
        |r| r.get(0),
    )?;
    Ok(found)
}

fn publish(ctx: &Ctx, s: &CollectionSchema, a: &AttributeRow, action: &str) {
    let attr_id = format!("{}_{}_{}", s.database.seq, s.collection.seq, a.key);
    crate::events::publish_typed(
        ctx,
        &format!("databases.[databaseId].collections.[collectionId].attributes.[attributeId].{action}"),
        &[("databaseId", &s.database.id), ("collectionId", &s.collection.id), ("attributeId", &attr_id)],
        model::attribute(Api::Legacy, a),
        Some(&s.database.kind),
    );
}

/// `POST …/attributes/relationship`: answers 202 with the new (already usable) attribute.
pub async fn create(api: Api, ctx: Ctx, p: Params) -> Reply {
    let r = Request::parse(api, &p)?;
    let now = ctx.state.clock.now_iso();
    let (s, a) = ctx
        .project()?
        .write(move |tx| {
            let s = require_schema(tx, api, &p)?;
            let a = create_in(tx, api, &s, &r, &now)?;
            Ok((s, a))
        })
        .await?;
    publish(&ctx, &s, &a, "create");
    let mut out = model::attribute(api, &a);
    out["status"] = json!("processing");
    accepted(out)
}

/// `PATCH …/attributes/relationship/{key}` and `…/attributes/{key}/relationship`: `onDelete`
/// and `newKey`, applied to both sides.
pub async fn update(api: Api, ctx: Ctx, p: Params, key: String) -> Reply {
    let on_delete = one_of(&p, "onDelete", ON_DELETE)?;
    let new_key = key_opt(&p, "newKey")?;
    let now = ctx.state.clock.now_iso();
    let (s, a) = ctx
        .project()?
        .write(move |tx| {
            let s = require_schema(tx, api, &p)?;
            let a = s.attribute(&key).cloned().ok_or_else(|| ApiError::with_arg(api.attribute_not_found(), &key))?;
            if a.status != "available" {
                return Err(ApiError::of(api.attribute_not_available()));
            }
            if !a.is_relationship() {
                return Err(ApiError::of(api.attribute_type_invalid()));
            }
            let link = Link::of(tx, &s.collection, &a)?;
            let renamed = new_key.clone().filter(|k| *k != a.key);
            if let Some(k) = &renamed {
                if taken(&s.attributes, k) {
                    return Err(ApiError::with_arg(api.attribute_exists(), k));
                }
            }
            let mut updated = a.clone();
            if let Some(o) = &on_delete {
                updated.options.insert("onDelete".into(), json!(o));
            }
            if let Some(k) = &renamed {
                updated.key = k.clone();
            }
            updated.updated_at = now.clone();
            store::update_attribute(tx, &updated)?;
            let other = link.as_ref().and_then(|l| l.attribute(Link::other(Side::of(&a))).cloned());
            if let Some(mut o) = other.filter(|o| o.seq != a.seq) {
                if let Some(d) = &on_delete {
                    o.options.insert("onDelete".into(), json!(d));
                }
                if let Some(k) = &renamed {
                    o.options.insert("twoWayKey".into(), json!(k));
                }
                o.updated_at = now.clone();
                store::update_attribute(tx, &o)?;
            }
            Ok((s, updated))
        })
        .await?;
    publish(&ctx, &s, &a, "update");
    ok(model::attribute(api, &a))
}

/// Deletes a relationship from either side: both attributes, their columns, junction and indexes.
pub fn delete_attribute(tx: &Transaction, _api: Api, s: &CollectionSchema, a: &AttributeRow) -> ApiResult<()> {
    match Link::of(tx, &s.collection, a)? {
        Some(link) => drop_link(tx, &link),
        None => {
            if stores_column(a) {
                ddl::drop_column(tx, &s.collection, a)?;
            }
            tx.execute("DELETE FROM attributes WHERE seq = ?1", [a.seq])?;
            Ok(())
        }
    }
}

/// Before a collection is dropped: every relationship touching it goes, on both ends.
pub fn detach_collection(tx: &Transaction, s: &CollectionSchema) -> ApiResult<()> {
    let mut links: Vec<Link> = Vec::new();
    for a in s.attributes.iter().filter(|a| a.is_relationship()) {
        if let Some(l) = Link::of(tx, &s.collection, a)? {
            links.push(l);
        }
    }
    links.extend(Link::hidden_into(tx, &s.collection)?);
    let mut done = Vec::new();
    for l in links {
        if done.contains(&l.parent.seq) {
            continue;
        }
        done.push(l.parent.seq);
        drop_link(tx, &l)?;
    }
    Ok(())
}

/// Before a database is dropped: the junction tables of its manyToMany relationships (the
/// collection tables themselves go with the database).
pub fn detach_database(tx: &Transaction, database_seq: i64) -> ApiResult<()> {
    let mut st = tx.prepare(
        "SELECT a.seq FROM attributes a JOIN collections c ON c.seq = a.collection_seq
         WHERE c.database_seq = ?1 AND a.type = 'relationship'
           AND json_extract(a.options, '$.side') = 'parent' AND json_extract(a.options, '$.relationType') = 'manyToMany'",
    )?;
    let seqs = st.query_map([database_seq], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>()?;
    for seq in seqs {
        tx.execute_batch(&format!(r#"DROP TABLE IF EXISTS "{}""#, junction_table(seq)))?;
    }
    Ok(())
}
