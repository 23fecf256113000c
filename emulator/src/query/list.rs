//! One list operation for every resource: validated queries, filters, keyset or offset paging,
//! the capped `total`, over any table described by a [`Schema`].

use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Row, Transaction};

use super::sql::{self, Compiled, Schema};
use super::{parse_all, validate, Dir, Grouped, COUNT_CAP};
use crate::error::{types, ApiError, ApiResult};

/// How query errors are reported: documents and rows answer `general_query_invalid`; the other
/// lists validate `queries` as a parameter (`general_argument_invalid`, "Invalid `queries` param: …").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    Query,
    Param,
}

/// What to list.
pub struct ListSpec<'a> {
    /// The FROM clause (generated table names and joins only).
    pub from: String,
    /// The selected columns, in the order the row mapper reads them.
    pub select: String,
    /// Conditions that define the set (e.g. the parent database); also bound the cursor lookup.
    pub scope: Compiled,
    /// Conditions hiding what the caller may not read; not applied to the cursor lookup.
    pub visibility: Compiled,
    pub schema: &'a dyn Schema,
    /// SQL of the `$id` column, to find the cursor row.
    pub id_sql: &'a str,
    /// "Database", "Document", … for the cursor-not-found message.
    pub resource: &'a str,
    /// "attribute"/"column" and "documents"/"rows" for the null-order message.
    pub order_words: (&'a str, &'a str),
    pub errors: Errors,
    /// `search` param: a term matched against these columns.
    pub search: Option<(String, Vec<&'a str>)>,
    pub allow_select: bool,
}

/// The page of rows and the total (0 when `with_total` is false).
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub grouped: Grouped,
}

/// Lists rows of `spec` matching `queries`.
pub fn list<T>(
    tx: &Transaction,
    spec: &ListSpec,
    queries: &[String],
    with_total: bool,
    map: impl Fn(&Row) -> rusqlite::Result<T>,
) -> ApiResult<Page<T>> {
    let grouped = parse_all(queries).map_err(|e| restyle(e, spec.errors))?;
    validate(&grouped, spec.schema, spec.allow_select).map_err(|m| match spec.errors {
        Errors::Query => ApiError::msg(types::GENERAL_QUERY_INVALID, m),
        Errors::Param => ApiError::invalid_param("queries", &m),
    })?;

    let mut filter = Compiled::default();
    filter.push(&spec.scope.sql, spec.scope.params.clone());
    if !spec.visibility.sql.is_empty() {
        filter.push(&spec.visibility.sql, spec.visibility.params.clone());
    }
    if let Some((term, cols)) = &spec.search {
        search(term, cols, &mut filter);
    }
    sql::filters(&grouped.filters, spec.schema, &mut filter);

    let total = if with_total {
        let count_sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {}{} LIMIT {COUNT_CAP})", spec.from, filter.where_clause());
        tx.prepare_cached(&count_sql)?.query_row(params_from_iter(filter.params.iter()), |r| r.get(0))?
    } else {
        0
    };

    let terms = sql::orders(&grouped.orders, spec.schema);
    let mut paged = filter.clone();
    let mut reverse = false;
    if let Some((after, cursor)) = &grouped.cursor {
        let id = cursor.value().and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let values = cursor_values(tx, spec, &terms, &id)?;
        sql::cursor_condition(&terms, &values, *after, &mut paged);
        reverse = !after;
    }
    let limit = grouped.limit();
    let offset = grouped.offset();
    let sql_text = format!(
        "SELECT {} FROM {}{}{} LIMIT ? OFFSET ?",
        spec.select,
        spec.from,
        paged.where_clause(),
        sql::order_by(&terms, reverse)
    );
    let mut params = paged.params.clone();
    params.push(Sql::Integer(limit));
    params.push(Sql::Integer(offset));
    let mut st = tx.prepare_cached(&sql_text)?;
    let mut items = st.query_map(params_from_iter(params.iter()), map)?.collect::<Result<Vec<T>, _>>()?;
    if reverse {
        items.reverse();
    }
    Ok(Page { items, total, grouped })
}

fn restyle(e: ApiError, errors: Errors) -> ApiError {
    if errors == Errors::Param && e.ty == types::GENERAL_QUERY_INVALID {
        ApiError::invalid_param("queries", &e.message)
    } else {
        e
    }
}

/// The cursor row's values for each order term; the row must exist within the scope and none of
/// the values may be null.
fn cursor_values(tx: &Transaction, spec: &ListSpec, terms: &[sql::OrderTerm], id: &str) -> ApiResult<Vec<Sql>> {
    let cols: Vec<&str> = terms.iter().map(|t| if t.dir == Dir::Random { "NULL" } else { t.sql.as_str() }).collect();
    let mut scope = spec.scope.clone();
    scope.push(&format!("{} = ?", spec.id_sql), [Sql::Text(id.to_string())]);
    let text = format!("SELECT {} FROM {}{} LIMIT 1", cols.join(", "), spec.from, scope.where_clause());
    let mut st = tx.prepare_cached(&text)?;
    let mut rows = st.query(params_from_iter(scope.params.iter()))?;
    let Some(row) = rows.next()? else {
        return Err(ApiError::msg(
            types::GENERAL_CURSOR_NOT_FOUND,
            format!("{} '{id}' for the 'cursor' value not found.", spec.resource),
        ));
    };
    let mut values = Vec::with_capacity(terms.len());
    for (i, t) in terms.iter().enumerate() {
        let v: Sql = row.get(i)?;
        if v == Sql::Null && t.dir != Dir::Random {
            let (attr_word, docs_word) = spec.order_words;
            return Err(ApiError::msg(
                types::DATABASE_QUERY_ORDER_NULL,
                format!(
                    "The order {attr_word} '{}' had a null value. Cursor pagination requires all {docs_word} order {attr_word} values are non-null.",
                    t.attribute
                ),
            ));
        }
        values.push(v);
    }
    Ok(values)
}

/// The `search` param of resource lists: any token found in any of the columns.
fn search(term: &str, cols: &[&str], out: &mut Compiled) {
    let tokens: Vec<String> = term
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '@'))
        .filter(|t| !t.is_empty())
        .map(|t| format!("%{}%", sql::escape_like(t)))
        .collect();
    if tokens.is_empty() {
        return;
    }
    let mut ors = Vec::new();
    let mut params = Vec::new();
    for t in &tokens {
        for c in cols {
            ors.push(format!("{c} LIKE ? ESCAPE '\\'"));
            params.push(Sql::Text(t.clone()));
        }
    }
    out.push(&format!("({})", ors.join(" OR ")), params);
}

/// A fixed schema for resource lists: the allow-listed attributes and their columns.
pub struct FixedSchema {
    pub fields: Vec<(&'static str, sql::Field)>,
    pub sequence: &'static str,
}

impl FixedSchema {
    /// `$id`, `$createdAt`, `$updatedAt`, `$sequence` on the given columns plus `fields`.
    pub fn new(prefix: &str, fields: &[(&'static str, &str, sql::Kind)], sequence: &'static str) -> FixedSchema {
        let mut all = vec![
            ("$id", sql::Field::new(format!("{prefix}id"), sql::Kind::String)),
            ("$createdAt", sql::Field::new(format!("{prefix}created_at"), sql::Kind::Datetime)),
            ("$updatedAt", sql::Field::new(format!("{prefix}updated_at"), sql::Kind::Datetime)),
            ("$sequence", sql::Field::new(sequence, sql::Kind::Sequence)),
        ];
        for (name, column, kind) in fields {
            all.push((name, sql::Field::new(format!("{prefix}{column}"), *kind)));
        }
        FixedSchema { fields: all, sequence }
    }
}

impl Schema for FixedSchema {
    fn field(&self, name: &str) -> Option<sql::Field> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, f)| f.clone())
    }

    fn sequence_sql(&self) -> &str {
        self.sequence
    }
}
