//! Undoing a declarative migration: the `down` written in the file, or one derived from `up`
//! where each step's inverse is exact; and which steps lose data.

use serde_json::{Map, Value};

use super::format::{Op, Settings, Step, StepsFile};

/// The steps that undo `file`, or why they cannot be derived: `(index of the up step, reason)`.
pub fn down_steps(file: &StepsFile) -> Result<Vec<Step>, (usize, String)> {
    match &file.down {
        Some(down) => Ok(down.clone()),
        None => derived_down(&file.up, file.up.len()),
    }
}

/// The inverse of the first `done` steps of `up`, last first.
pub fn derived_down(up: &[Step], done: usize) -> Result<Vec<Step>, (usize, String)> {
    let mut out = Vec::new();
    for i in (0..done.min(up.len())).rev() {
        if let Some(op) = invert(&up[i].op, &up[..i]).map_err(|reason| (i, reason))? {
            out.push(Step { description: Some(format!("undo: {}", up[i].op.summary())), op });
        }
    }
    Ok(out)
}

/// The exact inverse of `op`, given the steps before it in the same migration; `Ok(None)` when
/// nothing needs undoing (data written only into attributes that the same migration created, which
/// their own inverses delete).
pub fn invert(op: &Op, before: &[Step]) -> Result<Option<Op>, String> {
    let need = |what: &str| format!("{} has no `{what}` to undo it from; add it, or write the migration's `down`", op.name());
    Ok(Some(match op.clone() {
        Op::CreateDatabase { database, name, enabled } => {
            let mut definition = Map::new();
            definition.insert("name".into(), Value::String(name));
            if let Some(e) = enabled {
                definition.insert("enabled".into(), Value::Bool(e));
            }
            Op::DeleteDatabase { database, definition: Some(definition) }
        }
        Op::DeleteDatabase { database, definition: Some(d) } => Op::CreateDatabase {
            database,
            name: d.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            enabled: d.get("enabled").and_then(Value::as_bool),
        },
        Op::DeleteDatabase { .. } => return Err(need("definition")),
        Op::UpdateDatabase { database, set, from } => {
            let from = swap_from(&set, from).map_err(|_| need("from"))?;
            Op::UpdateDatabase { database, set: from, from: Some(set) }
        }
        Op::CreateCollection { database, collection, definition } => Op::DeleteCollection { database, collection, definition: Some(definition) },
        Op::DeleteCollection { database, collection, definition: Some(definition) } => Op::CreateCollection { database, collection, definition },
        Op::DeleteCollection { .. } => return Err(need("definition")),
        Op::UpdateCollection { database, collection, set, from } => {
            let from = swap_from(&set, from).map_err(|_| need("from"))?;
            Op::UpdateCollection { database, collection, set: from, from: Some(set) }
        }
        Op::CreateAttribute { database, collection, attribute } => {
            let key = attribute.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
            Op::DeleteAttribute { database, collection, key, definition: Some(attribute) }
        }
        Op::DeleteAttribute { database, collection, definition: Some(attribute), .. } => Op::CreateAttribute { database, collection, attribute },
        Op::DeleteAttribute { .. } => return Err(need("definition")),
        Op::UpdateAttribute { database, collection, key, set, from } => {
            let mut undo = {
                let mut changed = set.clone();
                changed.remove("key");
                swap_from(&changed, from).map_err(|_| need("from"))?
            };
            let mut redo = set.clone();
            let new_key = match redo.remove("key") {
                Some(Value::String(new_key)) => {
                    undo.insert("key".into(), Value::String(key.clone()));
                    new_key
                }
                _ => key.clone(),
            };
            Op::UpdateAttribute { database, collection, key: new_key, set: undo, from: Some(redo) }
        }
        Op::CreateIndex { database, collection, index } => {
            let key = index.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
            Op::DeleteIndex { database, collection, key, definition: Some(index) }
        }
        Op::DeleteIndex { database, collection, definition: Some(index), .. } => Op::CreateIndex { database, collection, index },
        Op::DeleteIndex { .. } => return Err(need("definition")),
        Op::CreateBucket { bucket, settings } => Op::DeleteBucket { bucket, definition: Some(settings) },
        Op::DeleteBucket { bucket, definition: Some(settings) } => Op::CreateBucket { bucket, settings },
        Op::DeleteBucket { .. } => return Err(need("definition")),
        Op::UpdateBucket { bucket, set, from } => {
            let from = swap_from(&set, from).map_err(|_| need("from"))?;
            Op::UpdateBucket { bucket, set: from, from: Some(set) }
        }
        Op::UpdateDocuments { collection, patch, .. } => {
            let targets: Vec<&str> = patch.keys().map(String::as_str).collect();
            if all_created_before(before, &collection, &targets) {
                return Ok(None);
            }
            return Err("update_documents overwrites values it does not record; write the migration's `down`".into());
        }
        Op::CopyAttribute { collection, to, .. } | Op::TransformAttribute { collection, to, .. } => {
            if all_created_before(before, &collection, &[to.as_str()]) {
                return Ok(None);
            }
            return Err(format!("{} overwrites {collection}.{to}, whose old values it does not record; write the migration's `down`", op.name()));
        }
        Op::DeleteDocuments { .. } => return Err("delete_documents cannot be undone: the deleted documents are gone; write the migration's `down`".into()),
    }))
}

/// `from` checked to name exactly the settings `set` changes.
fn swap_from(set: &Settings, from: Option<Settings>) -> Result<Settings, ()> {
    let from = from.ok_or(())?;
    if from.keys().collect::<std::collections::BTreeSet<_>>() == set.keys().collect() {
        Ok(from)
    } else {
        Err(())
    }
}

/// Whether every attribute in `keys` of `collection` was created by one of `steps`.
fn all_created_before(steps: &[Step], collection: &str, keys: &[&str]) -> bool {
    keys.iter().all(|k| {
        steps.iter().any(|s| match &s.op {
            Op::CreateAttribute { collection: c, attribute, .. } => c == collection && attribute.get("key").and_then(Value::as_str) == Some(k),
            Op::CreateCollection { collection: c, definition, .. } => {
                c == collection && definition.get("attributes").or_else(|| definition.get("columns")).and_then(Value::as_array).is_some_and(|a| a.iter().any(|a| a.get("key").and_then(Value::as_str) == Some(k)))
            }
            _ => false,
        })
    })
}

/// Why a step of `up` loses data that its migration's `down` does not bring back, if it does.
pub fn data_loss(file: &StepsFile, index: usize) -> Option<String> {
    let step = &file.up[index];
    let before = &file.up[..index];
    let loses = match &step.op {
        Op::DeleteDatabase { database, .. } => format!("deletes database {database} with everything in it"),
        Op::DeleteCollection { collection, .. } => format!("deletes collection {collection} and its documents"),
        Op::DeleteAttribute { collection, key, .. } => format!("deletes attribute {collection}.{key} and its values"),
        Op::DeleteBucket { bucket, .. } => format!("deletes bucket {bucket} and its files"),
        Op::DeleteDocuments { collection, .. } => return Some(format!("deletes documents of {collection}; no down can bring them back")),
        Op::UpdateDocuments { collection, queries, patch, .. } => {
            let targets: Vec<&str> = patch.keys().map(String::as_str).collect();
            if all_created_before(before, collection, &targets) || targets.iter().all(|k| only_fills_nulls(queries, k)) {
                return None;
            }
            format!("overwrites {} of {collection}", targets.join(", "))
        }
        Op::CopyAttribute { collection, to, queries, .. } | Op::TransformAttribute { collection, to, queries, .. } => {
            if all_created_before(before, collection, &[to.as_str()]) || only_fills_nulls(queries, to) {
                return None;
            }
            format!("overwrites {collection}.{to}")
        }
        _ => return None,
    };
    let restores = file.down.as_ref().is_some_and(|down| {
        down.iter().any(|d| matches!(&d.op, Op::CopyAttribute { collection, .. } | Op::TransformAttribute { collection, .. } | Op::UpdateDocuments { collection, .. } if Some(collection.as_str()) == step.op.collection()))
    });
    (!restores).then(|| format!("{loses}, and down {} the data", if file.down.is_some() { "has no data step bringing back" } else { "recreates the schema but not" }))
}

/// Whether `queries` restrict a write to documents where `key` is null, so nothing is overwritten.
fn only_fills_nulls(queries: &[Value], key: &str) -> bool {
    queries.iter().any(|q| {
        let q = match q {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        q.get("method").and_then(Value::as_str) == Some("isNull") && q.get("attribute").and_then(Value::as_str) == Some(key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::format::parse_steps;
    use serde_json::json;

    fn op(v: Value) -> Op {
        serde_json::from_value(v).unwrap()
    }

    fn file(v: Value) -> StepsFile {
        parse_steps(&v.to_string()).unwrap()
    }

    #[test]
    fn inverses_of_single_steps() {
        let cases: Vec<(Value, Result<Option<Value>, &str>)> = vec![
            (
                json!({"op": "create_attribute", "collection": "c", "attribute": {"key": "n", "type": "integer", "required": false}}),
                Ok(Some(json!({"op": "delete_attribute", "collection": "c", "key": "n", "definition": {"key": "n", "type": "integer", "required": false}}))),
            ),
            (
                json!({"op": "delete_index", "collection": "c", "key": "i", "definition": {"key": "i", "type": "key", "attributes": ["n"]}}),
                Ok(Some(json!({"op": "create_index", "collection": "c", "index": {"key": "i", "type": "key", "attributes": ["n"]}}))),
            ),
            (json!({"op": "delete_index", "collection": "c", "key": "i"}), Err("delete_index has no `definition`")),
            (
                json!({"op": "update_attribute", "collection": "c", "key": "s", "set": {"default": "x"}, "from": {"default": null}}),
                Ok(Some(json!({"op": "update_attribute", "collection": "c", "key": "s", "set": {"default": null}, "from": {"default": "x"}}))),
            ),
            (
                json!({"op": "update_attribute", "collection": "c", "key": "old", "set": {"key": "new", "size": 20}, "from": {"size": 10}}),
                Ok(Some(json!({"op": "update_attribute", "collection": "c", "key": "new", "set": {"size": 10, "key": "old"}, "from": {"size": 20}}))),
            ),
            (json!({"op": "update_attribute", "collection": "c", "key": "s", "set": {"default": "x"}}), Err("update_attribute has no `from`")),
            (json!({"op": "update_attribute", "collection": "c", "key": "s", "set": {"default": "x", "size": 3}, "from": {"default": null}}), Err("update_attribute has no `from`")),
            (
                json!({"op": "update_collection", "collection": "c", "set": {"name": "B"}, "from": {"name": "A"}}),
                Ok(Some(json!({"op": "update_collection", "collection": "c", "set": {"name": "A"}, "from": {"name": "B"}}))),
            ),
            (
                json!({"op": "create_database", "database": "d", "name": "D"}),
                Ok(Some(json!({"op": "delete_database", "database": "d", "definition": {"name": "D"}}))),
            ),
            (
                json!({"op": "create_bucket", "bucket": "b", "name": "B", "maximumFileSize": 10}),
                Ok(Some(json!({"op": "delete_bucket", "bucket": "b", "definition": {"name": "B", "maximumFileSize": 10}}))),
            ),
            (json!({"op": "delete_documents", "collection": "c"}), Err("delete_documents cannot be undone")),
            (json!({"op": "update_documents", "collection": "c", "patch": {"a": 1}}), Err("update_documents overwrites")),
            (json!({"op": "copy_attribute", "collection": "c", "from": "a", "to": "b"}), Err("copy_attribute overwrites c.b")),
        ];
        for (input, expected) in cases {
            let got = invert(&op(input.clone()), &[]);
            match (&got, &expected) {
                (Ok(g), Ok(e)) => assert_eq!(g.as_ref().map(|o| serde_json::to_value(o).unwrap()), e.clone(), "{input}"),
                (Err(g), Err(e)) => assert!(g.starts_with(e), "{input}: {g}"),
                _ => panic!("{input}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn derived_down_reverses_order_and_skips_writes_into_new_attributes() {
        let f = file(json!({"up": [
            {"op": "create_attribute", "collection": "c", "attribute": {"key": "b", "type": "string", "size": 10, "required": false}},
            {"op": "copy_attribute", "collection": "c", "from": "a", "to": "b"},
            {"op": "create_index", "collection": "c", "index": {"key": "ib", "type": "key", "attributes": ["b"]}}
        ]}));
        let down = down_steps(&f).unwrap();
        assert_eq!(down.iter().map(|s| s.op.summary()).collect::<Vec<_>>(), ["delete index c.ib", "delete attribute c.b"]);
        assert_eq!(derived_down(&f.up, 1).unwrap().len(), 1, "a migration that stopped after step 1 undoes only that step");
        assert!(data_loss(&f, 1).is_none());
    }

    #[test]
    fn an_underivable_step_names_its_index() {
        let f = file(json!({"up": [
            {"op": "create_attribute", "collection": "c", "attribute": {"key": "b", "type": "boolean", "required": false}},
            {"op": "delete_attribute", "collection": "c", "key": "a"}
        ]}));
        let (index, reason) = down_steps(&f).unwrap_err();
        assert_eq!(index, 1);
        assert!(reason.contains("definition"), "{reason}");
        let written = file(json!({"up": f.up, "down": []}));
        assert!(down_steps(&written).unwrap().is_empty());
    }

    #[test]
    fn data_loss_cases() {
        let cases: Vec<(Value, usize, Option<&str>)> = vec![
            (json!({"up": [{"op": "delete_attribute", "collection": "c", "key": "a", "definition": {"key": "a", "type": "boolean", "required": false}}]}), 0, Some("deletes attribute c.a and its values, and down recreates the schema but not the data")),
            (json!({"up": [{"op": "delete_documents", "collection": "c"}], "down": []}), 0, Some("deletes documents of c; no down can bring them back")),
            (json!({"up": [{"op": "update_documents", "collection": "c", "queries": [{"method": "isNull", "attribute": "s"}], "patch": {"s": "x"}}], "down": []}), 0, None),
            (json!({"up": [{"op": "update_documents", "collection": "c", "patch": {"s": "x"}}], "down": []}), 0, Some("overwrites s of c, and down has no data step bringing back the data")),
            (
                json!({"up": [{"op": "delete_attribute", "collection": "c", "key": "a"}], "down": [
                    {"op": "create_attribute", "collection": "c", "attribute": {"key": "a", "type": "string", "size": 5, "required": false}},
                    {"op": "copy_attribute", "collection": "c", "from": "a_copy", "to": "a"}]}),
                0,
                None,
            ),
            (json!({"up": [{"op": "create_collection", "collection": "c", "name": "C"}]}), 0, None),
        ];
        for (f, i, expected) in cases {
            assert_eq!(data_loss(&file(f.clone()), i).as_deref(), expected, "{f}");
        }
    }
}
