//! Attributes (columns): create by type, update, get, list, delete. Creation is synchronous:
//! the column exists when the 202 is answered, and lists show it `available`.

use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::schema::CollectionSchema;
use super::store::{self, AttributeRow};
use super::structure::{self, number_format_f, number_format_i};
use super::{ddl, model, Api};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{accepted, no_content, ok, Reply};

/// The types a create route accepts (`POST …/attributes/{type}`).
pub const ROUTE_TYPES: &[&str] = &[
    "string", "varchar", "text", "mediumtext", "longtext", "integer", "bigint", "float", "boolean", "email", "enum",
    "url", "ip", "datetime", "relationship", "point", "line", "polygon",
];

/// Largest `size` of a string attribute.
pub const STRING_MAX: i64 = 1_073_741_824;
const VARCHAR_MAX: i64 = 16_381;
/// The smallest string or varchar size Appwrite encrypts (`APP_DATABASE_ENCRYPT_SIZE_MIN`).
const ENCRYPT_SIZE_MIN: i64 = 150;
/// MariaDB's column limit, which Appwrite reports as the attribute limit.
const MAX_ATTRIBUTES: usize = 1017;

/// The route type an attribute was created through.
pub fn route_type(a: &AttributeRow) -> &str {
    match (a.kind.as_str(), a.format.as_str()) {
        ("string", "email") => "email",
        ("string", "enum") => "enum",
        ("string", "url") => "url",
        ("string", "ip") => "ip",
        ("double", _) => "float",
        (k, _) => k,
    }
}

/// Parameters of a new attribute, from a route or an inline collection definition.
#[derive(Debug, Clone)]
pub struct Spec {
    pub key: String,
    pub route_type: String,
    pub required: bool,
    pub array: bool,
    pub default: Value,
    pub size: Option<i64>,
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub elements: Option<Vec<String>>,
    pub encrypt: bool,
}

impl Spec {
    /// Reads the create parameters of `route_type` from a request.
    pub fn from_params(route_type: &str, p: &Params) -> ApiResult<Spec> {
        let key = p.str("key")?;
        ids::check_key("key", &key)?;
        let size = match route_type {
            "string" => Some(p.range_opt("size", 1, STRING_MAX)?.ok_or_else(|| ApiError::missing_param("size"))?),
            "varchar" => Some(p.range_opt("size", 1, VARCHAR_MAX)?.ok_or_else(|| ApiError::missing_param("size"))?),
            _ => None,
        };
        let elements = if route_type == "enum" {
            let list = p.bounded_list_opt("elements", 100, 255)?.ok_or_else(|| ApiError::missing_param("elements"))?;
            if list.iter().any(String::is_empty) {
                return Err(ApiError::invalid_param(
                    "elements",
                    "Value must a valid array no longer than 100 items and Value must be a valid string and at least 1 chars and no longer than 255 chars",
                ));
            }
            Some(list)
        } else {
            None
        };
        let spec = Spec {
            key,
            route_type: route_type.to_string(),
            required: p.bool("required")?,
            array: p.bool_opt("array")?.unwrap_or(false),
            default: p.get("default").cloned().unwrap_or(Value::Null),
            size,
            min: p.get("min").cloned(),
            max: p.get("max").cloned(),
            elements,
            encrypt: p.bool_opt("encrypt")?.unwrap_or(false),
        };
        spec.check_param_types()?;
        if spec.encrypt && spec.size.is_some_and(|size| size < ENCRYPT_SIZE_MIN) {
            return Err(ApiError::msg(
                types::GENERAL_BAD_REQUEST,
                format!("Size too small. Encrypted strings require a minimum size of {ENCRYPT_SIZE_MIN} characters."),
            ));
        }
        Ok(spec)
    }

    /// Reads an inline attribute definition (`attributes` of collection create).
    pub fn from_json(def: &Map<String, Value>) -> ApiResult<Spec> {
        let p = Params::from_json(def.clone());
        let kind = p.str("type")?;
        let format = p.str_opt("format")?.unwrap_or_default();
        let route_type = match (kind.as_str(), format.as_str()) {
            ("string", f @ ("email" | "enum" | "url" | "ip")) => f.to_string(),
            ("double", _) => "float".to_string(),
            (k, _) => k.to_string(),
        };
        if route_type == "relationship" {
            return Err(ApiError::msg(
                types::GENERAL_ARGUMENT_INVALID,
                "Relationship attributes cannot be created inline. Use the create relationship endpoint instead.",
            ));
        }
        if !ROUTE_TYPES.contains(&route_type.as_str()) {
            return Err(ApiError::msg(types::GENERAL_ARGUMENT_INVALID, format!("Unknown attribute type \"{kind}\"")));
        }
        let mut spec = Spec::from_params(&route_type, &p)?;
        spec.required = p.bool_opt("required")?.unwrap_or(false);
        Ok(spec)
    }

    fn check_param_types(&self) -> ApiResult<()> {
        let int = |name: &str, v: &Option<Value>| -> ApiResult<()> {
            match v {
                Some(v) if v.as_i64().is_none() || v.is_f64() => Err(ApiError::invalid_param(
                    name,
                    "Value must be a valid signed 64-bit integer between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807",
                )),
                _ => Ok(()),
            }
        };
        let float = |name: &str, v: &Option<Value>| -> ApiResult<()> {
            match v {
                Some(v) if !v.is_number() => Err(ApiError::invalid_param(name, "Value must be a valid float")),
                _ => Ok(()),
            }
        };
        let default = (!self.default.is_null()).then(|| self.default.clone());
        match self.route_type.as_str() {
            "integer" | "bigint" => {
                int("min", &self.min)?;
                int("max", &self.max)?;
                int("default", &default)?;
            }
            "float" => {
                float("min", &self.min)?;
                float("max", &self.max)?;
                float("default", &default)?;
            }
            "boolean" if default.as_ref().is_some_and(|d| !d.is_boolean()) => {
                return Err(ApiError::invalid_param("default", "Value must be a valid boolean"));
            }
            "datetime" => {
                if let Some(d) = &default {
                    if !d.as_str().is_some_and(|s| crate::clock::parse_datetime(s).is_some()) {
                        return Err(ApiError::invalid_param(
                            "default",
                            "Value must be valid date between 0000-01-01 00:00:00 and 9999-12-31 00:00:00.",
                        ));
                    }
                }
            }
            "string" | "varchar" | "text" | "mediumtext" | "longtext" | "email" | "enum" | "url" | "ip" => {
                if default.as_ref().is_some_and(|d| !d.is_string()) {
                    return Err(ApiError::invalid_param("default", "Value must be a valid string"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Builds the stored attribute from a spec, with Appwrite's checks on defaults and ranges.
fn build(api: Api, spec: &Spec, collection_seq: i64, now: &str) -> ApiResult<AttributeRow> {
    let value_invalid = |m: String| ApiError::msg(api.attribute_value_invalid(), m);
    let mut options = Map::new();
    let (kind, format, size) = match spec.route_type.as_str() {
        "string" => ("string", "", spec.size.unwrap_or(0)),
        "varchar" => ("varchar", "", spec.size.unwrap_or(0)),
        "text" => ("text", "", structure::MAX_TEXT_BYTES),
        "mediumtext" => ("mediumtext", "", structure::MAX_MEDIUMTEXT_BYTES),
        "longtext" => ("longtext", "", structure::MAX_LONGTEXT_BYTES),
        "email" => ("string", "email", 254),
        "url" => ("string", "url", 2000),
        "ip" => ("string", "ip", 39),
        "enum" => ("string", "enum", 255),
        "boolean" => ("boolean", "", 0),
        "datetime" => ("datetime", "", 0),
        "integer" | "bigint" => {
            let min = spec.min.as_ref().and_then(Value::as_i64).unwrap_or(i64::MIN);
            let max = spec.max.as_ref().and_then(Value::as_i64).unwrap_or(i64::MAX);
            if min > max {
                return Err(value_invalid("Minimum value must be lesser than maximum value".into()));
            }
            if let Some(d) = spec.default.as_i64() {
                if d < min || d > max {
                    return Err(value_invalid(format!(
                        "Value must be a valid range between {} and {}",
                        number_format_i(min),
                        number_format_i(max)
                    )));
                }
            }
            options.insert("min".into(), json!(min));
            options.insert("max".into(), json!(max));
            let kind = if spec.route_type == "bigint" { "bigint" } else { "integer" };
            (kind, "", if max > i32::MAX as i64 || kind == "bigint" { 8 } else { 4 })
        }
        "float" => {
            let min = spec.min.as_ref().and_then(Value::as_f64).unwrap_or(-f64::MAX);
            let max = spec.max.as_ref().and_then(Value::as_f64).unwrap_or(f64::MAX);
            if min > max {
                return Err(value_invalid("Minimum value must be lesser than maximum value".into()));
            }
            if let Some(d) = spec.default.as_f64() {
                if d < min || d > max {
                    return Err(value_invalid(format!(
                        "Value must be a valid range between {} and {}",
                        number_format_f(min),
                        number_format_f(max)
                    )));
                }
            }
            options.insert("min".into(), json!(min));
            options.insert("max".into(), json!(max));
            ("double", "", 0)
        }
        "point" | "line" | "polygon" => {
            return Err(ApiError::msg(
                types::GENERAL_NOT_IMPLEMENTED,
                format!("Spatial {}s ({}) are not supported by the emulator.", api.attribute_word(), spec.route_type),
            ))
        }
        other => return Err(ApiError::msg(types::GENERAL_ROUTE_NOT_FOUND, format!("Unknown attribute type \"{other}\""))),
    };
    if let Some(elements) = &spec.elements {
        if let Some(d) = spec.default.as_str() {
            if !elements.iter().any(|e| e == d) {
                return Err(value_invalid("Default value not found in elements".into()));
            }
        }
        options.insert("elements".into(), json!(elements));
    }
    if spec.encrypt {
        options.insert("encrypt".into(), json!(true));
    }
    if matches!(kind, "string" | "varchar") && spec.default.as_str().is_some_and(|d| d.chars().count() as i64 > size) {
        return Err(value_invalid(format!("Value must be a valid string and no longer than {size} chars")));
    }
    if spec.required && !spec.default.is_null() {
        return Err(ApiError::msg(
            api.attribute_default_unsupported(),
            format!("Cannot set default value for required {}", api.attribute_word()),
        ));
    }
    if spec.array && !spec.default.is_null() {
        return Err(ApiError::msg(
            api.attribute_default_unsupported(),
            format!("Cannot set default value for array {}s", api.attribute_word()),
        ));
    }
    let mut a = AttributeRow {
        seq: 0,
        collection_seq,
        key: spec.key.clone(),
        kind: kind.into(),
        format: format.into(),
        size,
        required: spec.required,
        array: spec.array,
        default: spec.default.clone(),
        options,
        status: "available".into(),
        error: String::new(),
        created_at: now.into(),
        updated_at: now.into(),
    };
    if kind == "datetime" {
        if let Some(d) = a.default.as_str().and_then(crate::clock::normalize_datetime) {
            a.default = json!(d);
        }
    }
    if kind == "double" {
        if let Some(d) = a.default.as_f64() {
            a.default = json!(d);
        }
    }
    // A default must itself be a valid value of the attribute.
    if !a.default.is_null() {
        structure::check_scalar(&a, &a.default).map_err(value_invalid)?;
    }
    Ok(a)
}

/// Creates an attribute and its column inside `tx`.
pub fn create_in(tx: &Transaction, api: Api, schema: &CollectionSchema, spec: &Spec, now: &str) -> ApiResult<AttributeRow> {
    let a = build(api, spec, schema.collection.seq, now)?;
    if schema.attribute(&a.key).is_some() {
        return Err(ApiError::with_arg(api.attribute_exists(), &a.key));
    }
    if schema.attributes.len() >= MAX_ATTRIBUTES {
        return Err(ApiError::with_arg(api.attribute_limit(), &schema.collection.id));
    }
    let a = store::insert_attribute(tx, &a)?;
    ddl::add_column(tx, &schema.collection, &a)?;
    Ok(a)
}

fn load(tx: &Transaction, api: Api, p: &Params) -> ApiResult<CollectionSchema> {
    CollectionSchema::require(tx, api, p.path("databaseId"), p.path(api.collection_param()), true)
}

pub async fn create(api: Api, ctx: Ctx, p: Params) -> Reply {
    let route_type = p.path("key").to_string();
    if !ROUTE_TYPES.contains(&route_type.as_str()) {
        return Err(ApiError::of(types::GENERAL_ROUTE_NOT_FOUND));
    }
    if route_type == "relationship" {
        return super::relationships::create(api, ctx, p).await;
    }
    let spec = Spec::from_params(&route_type, &p)?;
    let now = ctx.state.clock.now_iso();
    let (schema, a) = ctx
        .project()?
        .write(move |tx| {
            let schema = load(tx, api, &p)?;
            let a = create_in(tx, api, &schema, &spec, &now)?;
            Ok((schema, a))
        })
        .await?;
    publish(&ctx, &schema, &a, "create");
    let mut out = model::attribute(api, &a);
    out["status"] = json!("processing");
    accepted(out)
}

fn publish(ctx: &Ctx, schema: &CollectionSchema, a: &AttributeRow, action: &str) {
    let attr_id = format!("{}_{}_{}", schema.database.seq, schema.collection.seq, a.key);
    crate::events::publish_typed(
        ctx,
        &format!("databases.[databaseId].collections.[collectionId].attributes.[attributeId].{action}"),
        &[("databaseId", &schema.database.id), ("collectionId", &schema.collection.id), ("attributeId", &attr_id)],
        model::attribute(Api::Legacy, a),
        Some(&schema.database.kind),
    );
}

pub async fn get(api: Api, ctx: Ctx, p: Params) -> Reply {
    let a = ctx
        .project()?
        .read(move |tx| {
            let schema = load(tx, api, &p)?;
            let key = p.path("key");
            schema.attribute(key).cloned().ok_or_else(|| ApiError::with_arg(api.attribute_not_found(), key))
        })
        .await?;
    ok(model::attribute(api, &a))
}

pub async fn list(api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            let schema = load(tx, api, &p)?;
            let fixed = FixedSchema::new(
                "",
                &[
                    ("key", "key", Kind::String),
                    ("type", "type", Kind::String),
                    ("size", "size", Kind::Integer),
                    ("required", "required", Kind::Boolean),
                    ("array", "array", Kind::Boolean),
                    ("status", "status", Kind::String),
                    ("error", "error", Kind::String),
                ],
                "seq",
            );
            let mut scope = Compiled::default();
            scope.push("collection_seq = ?", [rusqlite::types::Value::Integer(schema.collection.seq)]);
            let spec = ListSpec {
                from: "attributes".into(),
                select: store::ATTRIBUTE_COLS.into(),
                scope,
                visibility: Compiled::default(),
                schema: &fixed,
                id_sql: "key",
                resource: if api.is_legacy() { "Attribute" } else { "Column" },
                order_words: (api.attribute_word(), api.documents_key()),
                errors: Errors::Param,
                search: None,
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, store::map_attribute)?;
            Ok((page.items, page.total))
        })
        .await?;
    ok(json!({"total": total, api.attributes_key(): items.iter().map(|a| model::attribute(api, a)).collect::<Vec<_>>()}))
}

pub async fn update(api: Api, ctx: Ctx, p: Params) -> Reply {
    let (first, second) = (p.path("key").to_string(), p.path("sub").to_string());
    // `…/relationship/{key}` and `…/{key}/relationship` both update a relationship.
    let relationship_key = if first == "relationship" {
        Some(second.clone())
    } else if second == "relationship" && !ROUTE_TYPES.contains(&first.as_str()) {
        Some(first.clone())
    } else {
        None
    };
    if let Some(key) = relationship_key {
        return super::relationships::update(api, ctx, p, key).await;
    }
    if !ROUTE_TYPES.contains(&first.as_str()) {
        return Err(ApiError::of(types::GENERAL_ROUTE_NOT_FOUND));
    }
    let (route, key) = (first, second);
    if !p.present("required") {
        return Err(ApiError::missing_param("required"));
    }
    if !p.present("default") {
        return Err(ApiError::missing_param("default"));
    }
    let required = p.bool("required")?;
    let default = p.get("default").cloned().unwrap_or(Value::Null);
    let new_key = p.str_opt("newKey")?;
    if let Some(k) = &new_key {
        ids::check_key("newKey", k)?;
    }
    let size = match route.as_str() {
        "string" => p.range_opt("size", 1, STRING_MAX)?,
        "varchar" => p.range_opt("size", 1, VARCHAR_MAX)?,
        _ => None,
    };
    let elements = if route == "enum" {
        Some(p.bounded_list_opt("elements", 100, 255)?.ok_or_else(|| ApiError::missing_param("elements"))?)
    } else {
        None
    };
    let (min, max) = (p.get("min").cloned(), p.get("max").cloned());
    let now = ctx.state.clock.now_iso();
    let (schema, a) = ctx
        .project()?
        .write(move |tx| {
            let schema = load(tx, api, &p)?;
            let mut a = schema.attribute(&key).cloned().ok_or_else(|| ApiError::with_arg(api.attribute_not_found(), &key))?;
            if a.status != "available" {
                return Err(ApiError::with_arg(api.attribute_not_available(), &key));
            }
            if route_type(&a) != route {
                return Err(ApiError::with_arg(api.attribute_type_invalid(), &key));
            }
            let spec = Spec {
                key: new_key.clone().unwrap_or_else(|| a.key.clone()),
                route_type: route.clone(),
                required,
                array: a.array,
                default: default.clone(),
                size: size.or((a.size > 0).then_some(a.size)),
                min: min.clone().or_else(|| a.options.get("min").cloned()),
                max: max.clone().or_else(|| a.options.get("max").cloned()),
                elements: elements.clone().or_else(|| {
                    a.options.get("elements").and_then(|e| serde_json::from_value(e.clone()).ok())
                }),
                encrypt: a.encrypted(),
            };
            spec.check_param_types()?;
            if spec.elements.as_ref().is_some_and(|e| e.is_empty()) {
                return Err(ApiError::msg(api.attribute_value_invalid(), "Enum elements must not be empty"));
            }
            let built = build(api, &spec, a.collection_seq, &now)?;
            if let Some(new_size) = size {
                if new_size < a.size {
                    let too_long: bool = tx.query_row(
                        &format!(
                            "SELECT EXISTS(SELECT 1 FROM \"{}\" WHERE length({}) > ?1)",
                            schema.collection.table(),
                            a.sql()
                        ),
                        [new_size],
                        |r| r.get(0),
                    )?;
                    if too_long {
                        return Err(ApiError::of(api.attribute_invalid_resize()));
                    }
                }
            }
            if let Some(nk) = &new_key {
                if nk != &a.key {
                    if schema.attribute(nk).is_some() {
                        return Err(ApiError::with_arg(api.attribute_exists(), nk));
                    }
                    for i in &schema.indexes {
                        if i.attributes.contains(&a.key) {
                            let renamed: Vec<String> =
                                i.attributes.iter().map(|x| if *x == a.key { nk.clone() } else { x.clone() }).collect();
                            store::set_index_attributes(tx, i.seq, &renamed, &now)?;
                        }
                    }
                }
            }
            a.key = built.key;
            a.size = built.size;
            a.required = built.required;
            a.default = built.default;
            a.options = built.options;
            a.updated_at = now.clone();
            store::update_attribute(tx, &a)?;
            Ok((schema, a))
        })
        .await?;
    publish(&ctx, &schema, &a, "update");
    ok(model::attribute(api, &a))
}

pub async fn delete(api: Api, ctx: Ctx, p: Params) -> Reply {
    let now = ctx.state.clock.now_iso();
    let (schema, a) = ctx
        .project()?
        .write(move |tx| {
            let schema = load(tx, api, &p)?;
            let key = p.path("key");
            let a = schema.attribute(key).cloned().ok_or_else(|| ApiError::with_arg(api.attribute_not_found(), key))?;
            if a.array && schema.indexes.iter().any(|i| i.attributes.iter().any(|x| x.eq_ignore_ascii_case(&a.key))) {
                return Err(ApiError::with_arg(api.index_dependency(), key));
            }
            if a.is_relationship() {
                super::relationships::delete_attribute(tx, api, &schema, &a)?;
            } else {
                remove(tx, &schema, &a, &now)?;
            }
            Ok((schema, a))
        })
        .await?;
    publish(&ctx, &schema, &a, "delete");
    no_content()
}

/// Removes an attribute, its column, and it from every index (an index left empty is dropped).
pub fn remove(tx: &Transaction, schema: &CollectionSchema, a: &AttributeRow, now: &str) -> ApiResult<()> {
    for i in schema.indexes.iter().filter(|i| i.attributes.contains(&a.key)) {
        ddl::drop_index(tx, &schema.collection, i)?;
        let remaining: Vec<String> = i.attributes.iter().filter(|x| **x != a.key).cloned().collect();
        if remaining.is_empty() {
            tx.execute("DELETE FROM indexes WHERE seq = ?1", [i.seq])?;
        } else {
            store::set_index_attributes(tx, i.seq, &remaining, now)?;
            let mut updated = i.clone();
            updated.attributes = remaining;
            let attrs: Vec<Option<&AttributeRow>> =
                updated.attributes.iter().map(|k| schema.attribute(k)).collect();
            ddl::create_index(tx, &schema.collection, &updated, &attrs)?;
        }
    }
    if super::schema::stores_column(a) {
        ddl::drop_column(tx, &schema.collection, a)?;
    }
    tx.execute("DELETE FROM attributes WHERE seq = ?1", [a.seq])?;
    Ok(())
}
