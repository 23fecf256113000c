//! Compiles validated filters, orders and cursors to SQL. Identifiers come only from the schema
//! (generated column names); every value is a bound parameter.

use rusqlite::types::Value as Sql;
use serde_json::Value;

use super::{Dir, Query};

/// How a queryable attribute is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    BigInt,
    Float,
    Boolean,
    Datetime,
    /// `$sequence`
    Sequence,
    Relationship,
}

/// Relationship facts the query validator needs.
#[derive(Debug, Clone)]
pub struct RelationshipInfo {
    /// True for the side that stores nothing (not queryable).
    pub virtual_side: bool,
}

/// A queryable attribute.
#[derive(Debug, Clone)]
pub struct Field {
    /// SQL expression naming the column (schema-generated, never user text).
    pub sql: String,
    pub kind: Kind,
    pub array: bool,
    /// 32 or 64 for integers.
    pub bits: u32,
    pub encrypted: bool,
    /// The FTS5 table holding a fulltext index on exactly this attribute.
    pub fulltext: Option<String>,
    pub relationship: Option<RelationshipInfo>,
}

impl Field {
    pub fn new(sql: impl Into<String>, kind: Kind) -> Field {
        Field { sql: sql.into(), kind, array: false, bits: 64, encrypted: false, fulltext: None, relationship: None }
    }
}

/// The attributes a list may filter and order on.
pub trait Schema {
    fn field(&self, name: &str) -> Option<Field>;
    /// SQL naming the table's sequence column (tie-break and cursor).
    fn sequence_sql(&self) -> &str;
}

/// A WHERE fragment with its parameters.
#[derive(Debug, Default, Clone)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<Sql>,
}

impl Compiled {
    pub fn push(&mut self, sql: &str, params: impl IntoIterator<Item = Sql>) {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        self.sql.push_str(sql);
        self.params.extend(params);
    }

    /// `WHERE …` or the empty string.
    pub fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql)
        }
    }
}

/// Binds a JSON query value for a column of `kind`.
pub fn bind(kind: Kind, v: &Value) -> Sql {
    match (kind, v) {
        (_, Value::Null) => Sql::Null,
        (Kind::Boolean, Value::Bool(b)) => Sql::Integer(*b as i64),
        (Kind::Integer | Kind::BigInt | Kind::Sequence, Value::Number(n)) => {
            n.as_i64().map(Sql::Integer).unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)))
        }
        (Kind::Integer | Kind::BigInt | Kind::Sequence, Value::String(s)) => {
            s.parse::<i64>().map(Sql::Integer).unwrap_or_else(|_| Sql::Text(s.clone()))
        }
        (Kind::Float, Value::Number(n)) => Sql::Real(n.as_f64().unwrap_or(0.0)),
        (Kind::Datetime, Value::String(s)) => Sql::Text(crate::clock::normalize_datetime(s).unwrap_or_else(|| s.clone())),
        (_, Value::String(s)) => Sql::Text(s.clone()),
        (_, Value::Bool(b)) => Sql::Integer(*b as i64),
        (_, Value::Number(n)) => n.as_i64().map(Sql::Integer).unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0))),
        (_, other) => Sql::Text(other.to_string()),
    }
}

/// A query value as the text LIKE compares with: numbers in their decimal form and booleans as
/// 1/0, as MariaDB compares a numeric column with `LIKE '1%'` in Appwrite.
fn like_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => u8::from(*b).to_string(),
        _ => String::new(),
    }
}

/// Escapes LIKE wildcards (`%`, `_`, `\`) so values match literally (`ESCAPE '\'`).
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The MariaDB BOOLEAN MODE reading of a search term, as FTS5 syntax: tokens OR-ed, the last one
/// prefix-matched, `"…"` an exact phrase (utopia's SQLite adapter `getFTS5Value`).
pub fn fts_value(raw: &str) -> String {
    let exact = raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') && raw.matches('"').count() == 2;
    let sanitized: String = raw.chars().map(|c| if c.is_alphanumeric() || c == '_' || c.is_whitespace() { c } else { ' ' }).collect();
    let tokens: Vec<&str> = sanitized.split_whitespace().collect();
    if tokens.is_empty() {
        return String::new();
    }
    if exact {
        return format!("\"{}\"", tokens.join(" "));
    }
    let mut out: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
    let last = out.pop().unwrap();
    out.push(format!("{last}*"));
    out.join(" OR ")
}

/// Appends the SQL for `filters` (ANDed) to `out`.
pub fn filters(filters: &[Query], schema: &dyn Schema, out: &mut Compiled) {
    for f in filters {
        let mut params = Vec::new();
        let sql = condition(f, schema, &mut params);
        if !sql.is_empty() {
            out.push(&sql, params);
        }
    }
}

fn condition(q: &Query, schema: &dyn Schema, params: &mut Vec<Sql>) -> String {
    let m = q.method.as_str();
    if matches!(m, "and" | "or") {
        let parts: Vec<String> =
            q.nested.iter().map(|n| condition(n, schema, params)).filter(|s| !s.is_empty()).collect();
        if parts.is_empty() {
            return String::new();
        }
        let op = if m == "and" { " AND " } else { " OR " };
        return format!("({})", parts.join(op));
    }
    if matches!(m, "exists" | "notExists") {
        let cols: Vec<String> = q
            .values
            .iter()
            .filter_map(|v| v.as_str())
            .filter_map(|name| schema.field(name))
            .map(|f| format!("{} IS {}NULL", f.sql, if m == "exists" { "NOT " } else { "" }))
            .collect();
        return if cols.is_empty() { "1 = 0".into() } else { format!("({})", cols.join(" AND ")) };
    }
    let Some(field) = schema.field(&q.attribute) else {
        return "1 = 0".into();
    };
    let col = field.sql.as_str();
    let bind_all = |params: &mut Vec<Sql>| -> String {
        let marks: Vec<&str> = q.values.iter().map(|_| "?").collect();
        params.extend(q.values.iter().map(|v| bind(field.kind, v)));
        marks.join(", ")
    };
    if field.array && matches!(m, "contains" | "containsAny" | "notContains" | "containsAll") {
        let mut values: Vec<&Value> = q.values.iter().collect();
        values.dedup();
        let marks: Vec<&str> = values.iter().map(|_| "?").collect();
        params.extend(values.iter().map(|v| bind(field.kind, v)));
        let marks = marks.join(", ");
        return match m {
            "containsAll" => format!(
                "(SELECT COUNT(DISTINCT value) FROM json_each({col}) WHERE value IN ({marks})) = {}",
                values.len()
            ),
            "notContains" => format!("NOT EXISTS (SELECT 1 FROM json_each({col}) WHERE value IN ({marks}))"),
            _ => format!("EXISTS (SELECT 1 FROM json_each({col}) WHERE value IN ({marks}))"),
        };
    }
    match m {
        "equal" => format!("{col} IN ({})", bind_all(params)),
        "notEqual" => {
            params.push(bind(field.kind, &q.values[0]));
            format!("{col} != ?")
        }
        "lessThan" | "lessThanEqual" | "greaterThan" | "greaterThanEqual" => {
            let op = match m {
                "lessThan" => "<",
                "lessThanEqual" => "<=",
                "greaterThan" => ">",
                _ => ">=",
            };
            params.push(bind(field.kind, &q.values[0]));
            format!("{col} {op} ?")
        }
        "isNull" => format!("{col} IS NULL"),
        "isNotNull" => format!("{col} IS NOT NULL"),
        "between" | "notBetween" => {
            params.push(bind(field.kind, &q.values[0]));
            params.push(bind(field.kind, &q.values[1]));
            let not = if m == "notBetween" { "NOT " } else { "" };
            format!("{col} {not}BETWEEN ? AND ?")
        }
        "startsWith" | "notStartsWith" | "endsWith" | "notEndsWith" | "contains" | "containsAny" | "notContains"
        | "containsAll" => {
            let negate = matches!(m, "notStartsWith" | "notEndsWith" | "notContains");
            let parts: Vec<String> = q
                .values
                .iter()
                .map(|v| {
                    let s = escape_like(&like_text(v));
                    let pattern = match m {
                        "startsWith" | "notStartsWith" => format!("{s}%"),
                        "endsWith" | "notEndsWith" => format!("%{s}"),
                        _ => format!("%{s}%"),
                    };
                    params.push(Sql::Text(pattern));
                    format!("{col} {}LIKE ? ESCAPE '\\'", if negate { "NOT " } else { "" })
                })
                .collect();
            let sep = if negate || m == "containsAll" { " AND " } else { " OR " };
            format!("({})", parts.join(sep))
        }
        "search" | "notSearch" => {
            let term = fts_value(q.values[0].as_str().unwrap_or_default());
            let Some(fts) = &field.fulltext else { return "1 = 0".into() };
            if term.is_empty() {
                return if m == "search" { "1 = 0".into() } else { "1 = 1".into() };
            }
            params.push(Sql::Text(term));
            let sub = format!("{} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)", schema.sequence_sql());
            if m == "search" {
                sub
            } else {
                format!("NOT ({sub})")
            }
        }
        _ => "1 = 0".into(),
    }
}

/// One ORDER BY term resolved to SQL.
#[derive(Debug, Clone)]
pub struct OrderTerm {
    pub attribute: String,
    pub sql: String,
    pub dir: Dir,
}

/// Resolves orders and appends the `$sequence` tie-break the server adds (in the leading direction
/// when the first order is `$createdAt`/`$updatedAt`).
pub fn orders(requested: &[(String, Dir)], schema: &dyn Schema) -> Vec<OrderTerm> {
    let mut terms: Vec<OrderTerm> = requested
        .iter()
        .map(|(a, d)| OrderTerm {
            attribute: a.clone(),
            sql: if *d == Dir::Random { "RANDOM()".into() } else { schema.field(a).map(|f| f.sql).unwrap_or_default() },
            dir: *d,
        })
        .filter(|t| !t.sql.is_empty())
        .collect();
    let unique = terms.iter().any(|t| t.attribute == "$id" || t.attribute == "$sequence");
    if !unique {
        let lead = terms.first().filter(|t| t.attribute == "$createdAt" || t.attribute == "$updatedAt").map(|t| t.dir);
        terms.push(OrderTerm {
            attribute: "$sequence".into(),
            sql: schema.sequence_sql().to_string(),
            dir: lead.unwrap_or(Dir::Asc),
        });
    }
    terms
}

/// `ORDER BY …`, reversed for `cursorBefore` (the page is fetched backwards then flipped).
pub fn order_by(terms: &[OrderTerm], reverse: bool) -> String {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| match t.dir {
            Dir::Random => t.sql.clone(),
            d => {
                let asc = (d == Dir::Asc) != reverse;
                format!("{} {}", t.sql, if asc { "ASC" } else { "DESC" })
            }
        })
        .collect();
    format!(" ORDER BY {}", parts.join(", "))
}

/// The keyset condition selecting rows after (or before) the cursor row whose order values are
/// `values` (one per term, non-null).
pub fn cursor_condition(terms: &[OrderTerm], values: &[Sql], after: bool, out: &mut Compiled) {
    let mut ors = Vec::new();
    let mut params = Vec::new();
    for i in 0..terms.len() {
        if terms[i].dir == Dir::Random {
            continue;
        }
        let mut ands = Vec::new();
        for j in 0..i {
            ands.push(format!("{} = ?", terms[j].sql));
            params.push(values[j].clone());
        }
        let forward = (terms[i].dir == Dir::Asc) == after;
        ands.push(format!("{} {} ?", terms[i].sql, if forward { ">" } else { "<" }));
        params.push(values[i].clone());
        ors.push(format!("({})", ands.join(" AND ")));
    }
    if !ors.is_empty() {
        out.push(&format!("({})", ors.join(" OR ")), params);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S;
    impl Schema for S {
        fn field(&self, name: &str) -> Option<Field> {
            match name {
                "n" => Some(Field::new("\"a1\"", Kind::Integer)),
                "s" => Some(Field::new("\"a2\"", Kind::String)),
                "tags" => Some(Field { array: true, ..Field::new("\"a3\"", Kind::String) }),
                "$createdAt" => Some(Field::new("_created", Kind::Datetime)),
                _ => None,
            }
        }
        fn sequence_sql(&self) -> &str {
            "_seq"
        }
    }

    fn q(json: &str) -> Query {
        Query::parse(json).unwrap()
    }

    #[test]
    fn compiles_with_bound_values_only() {
        let mut c = Compiled::default();
        filters(
            &[
                q(r#"{"method":"equal","attribute":"s","values":["a'; DROP TABLE x; --","b"]}"#),
                q(r#"{"method":"or","values":[{"method":"greaterThan","attribute":"n","values":[3]},{"method":"isNull","attribute":"n"}]}"#),
                q(r#"{"method":"contains","attribute":"tags","values":["x"]}"#),
                q(r#"{"method":"startsWith","attribute":"s","values":["50%_"]}"#),
            ],
            &S,
            &mut c,
        );
        assert_eq!(
            c.sql,
            "\"a2\" IN (?, ?) AND (\"a1\" > ? OR \"a1\" IS NULL) AND EXISTS (SELECT 1 FROM json_each(\"a3\") WHERE value IN (?)) AND (\"a2\" LIKE ? ESCAPE '\\')"
        );
        assert!(!c.sql.contains("DROP"));
        assert_eq!(c.params.len(), 5);
        assert_eq!(c.params[4], Sql::Text("50\\%\\_%".into()));
    }

    #[test]
    fn tie_break_follows_created_at() {
        let t = orders(&[("$createdAt".into(), Dir::Desc)], &S);
        assert_eq!(order_by(&t, false), " ORDER BY _created DESC, _seq DESC");
        let t = orders(&[("n".into(), Dir::Desc)], &S);
        assert_eq!(order_by(&t, false), " ORDER BY \"a1\" DESC, _seq ASC");
        assert_eq!(order_by(&t, true), " ORDER BY \"a1\" ASC, _seq DESC");
    }

    #[test]
    fn keyset_cursor() {
        let t = orders(&[("n".into(), Dir::Desc)], &S);
        let mut c = Compiled::default();
        cursor_condition(&t, &[Sql::Integer(5), Sql::Integer(9)], true, &mut c);
        assert_eq!(c.sql, "((\"a1\" < ?) OR (\"a1\" = ? AND _seq > ?))");
    }

    #[test]
    fn fts_terms() {
        assert_eq!(fts_value("hello world"), "\"hello\" OR \"world\"*");
        assert_eq!(fts_value("\"exact phrase\""), "\"exact phrase\"");
        assert_eq!(fts_value("a' OR 1=1 --"), "\"a\" OR \"OR\" OR \"1\" OR \"1\"*");
        assert_eq!(fts_value("***"), "");
    }
}
