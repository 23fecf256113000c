//! Databases (legacy) and TablesDB: two REST views of one store. Every handler takes the [`Api`]
//! it serves, which only changes names (collection/table, attribute/column, document/row) and
//! error types.

mod attributes;
mod collections;
mod databases;
pub mod ddl;
pub mod documents;
mod indexes;
pub mod model;
pub mod records;
pub mod relationships;
pub mod schema;
pub mod store;
pub mod structure;
pub mod transactions;

use axum::routing::{get, patch, post};
use axum::Router;

use crate::error::{types, ErrorType};
use crate::state::AppState;

/// Which of the two database APIs a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Legacy,
    Tables,
}

impl Api {
    pub fn is_legacy(self) -> bool {
        self == Api::Legacy
    }

    /// The SDK namespace 1.9.6 names in some messages (`getSDKNamespace`): `databases` or `tablesDB`.
    pub fn sdk_namespace(self) -> &'static str {
        self.pick("databases", "tablesDB")
    }

    fn pick<T>(self, legacy: T, tables: T) -> T {
        if self.is_legacy() {
            legacy
        } else {
            tables
        }
    }

    /// Path/body parameter naming the collection.
    pub fn collection_param(self) -> &'static str {
        self.pick("collectionId", "tableId")
    }
    pub fn document_param(self) -> &'static str {
        self.pick("documentId", "rowId")
    }
    pub fn attribute_param(self) -> &'static str {
        self.pick("attribute", "column")
    }
    /// `documents` / `rows`: list key and bulk param.
    pub fn documents_key(self) -> &'static str {
        self.pick("documents", "rows")
    }
    pub fn collections_key(self) -> &'static str {
        self.pick("collections", "tables")
    }
    pub fn attributes_key(self) -> &'static str {
        self.pick("attributes", "columns")
    }
    pub fn security_key(self) -> &'static str {
        self.pick("documentSecurity", "rowSecurity")
    }
    pub fn collection_id_key(self) -> &'static str {
        self.pick("$collectionId", "$tableId")
    }
    pub fn related_key(self) -> &'static str {
        self.pick("relatedCollection", "relatedTable")
    }
    /// "attribute" / "column" in messages.
    pub fn attribute_word(self) -> &'static str {
        self.pick("attribute", "column")
    }
    pub fn document_word(self) -> &'static str {
        self.pick("Document", "Row")
    }

    pub fn collection_not_found(self) -> ErrorType {
        self.pick(types::COLLECTION_NOT_FOUND, types::TABLE_NOT_FOUND)
    }
    pub fn collection_exists(self) -> ErrorType {
        self.pick(types::COLLECTION_ALREADY_EXISTS, types::TABLE_ALREADY_EXISTS)
    }
    pub fn document_not_found(self) -> ErrorType {
        self.pick(types::DOCUMENT_NOT_FOUND, types::ROW_NOT_FOUND)
    }
    pub fn document_exists(self) -> ErrorType {
        self.pick(types::DOCUMENT_ALREADY_EXISTS, types::ROW_ALREADY_EXISTS)
    }
    pub fn invalid_structure(self) -> ErrorType {
        self.pick(types::DOCUMENT_INVALID_STRUCTURE, types::ROW_INVALID_STRUCTURE)
    }
    pub fn missing_data(self) -> ErrorType {
        self.pick(types::DOCUMENT_MISSING_DATA, types::ROW_MISSING_DATA)
    }
    pub fn missing_payload(self) -> ErrorType {
        self.pick(types::DOCUMENT_MISSING_PAYLOAD, types::ROW_MISSING_PAYLOAD)
    }
    pub fn delete_restricted(self) -> ErrorType {
        self.pick(types::DOCUMENT_DELETE_RESTRICTED, types::ROW_DELETE_RESTRICTED)
    }
    pub fn attribute_not_found(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_NOT_FOUND, types::COLUMN_NOT_FOUND)
    }
    pub fn attribute_exists(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_ALREADY_EXISTS, types::COLUMN_ALREADY_EXISTS)
    }
    pub fn attribute_unknown(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_UNKNOWN, types::COLUMN_UNKNOWN)
    }
    pub fn attribute_not_available(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_NOT_AVAILABLE, types::COLUMN_NOT_AVAILABLE)
    }
    pub fn attribute_default_unsupported(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_DEFAULT_UNSUPPORTED, types::COLUMN_DEFAULT_UNSUPPORTED)
    }
    pub fn attribute_value_invalid(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_VALUE_INVALID, types::COLUMN_VALUE_INVALID)
    }
    pub fn attribute_type_invalid(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_TYPE_INVALID, types::COLUMN_TYPE_INVALID)
    }
    pub fn attribute_limit(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_LIMIT_EXCEEDED, types::COLUMN_LIMIT_EXCEEDED)
    }
    pub fn attribute_invalid_resize(self) -> ErrorType {
        self.pick(types::ATTRIBUTE_INVALID_RESIZE, types::COLUMN_INVALID_RESIZE)
    }
    pub fn index_dependency(self) -> ErrorType {
        self.pick(types::INDEX_DEPENDENCY, types::COLUMN_INDEX_DEPENDENCY)
    }
    pub fn index_not_found(self) -> ErrorType {
        self.pick(types::INDEX_NOT_FOUND, types::COLUMN_INDEX_NOT_FOUND)
    }
    pub fn index_exists(self) -> ErrorType {
        self.pick(types::INDEX_ALREADY_EXISTS, types::COLUMN_INDEX_ALREADY_EXISTS)
    }
    pub fn index_invalid(self) -> ErrorType {
        self.pick(types::INDEX_INVALID, types::COLUMN_INDEX_INVALID)
    }
    pub fn index_limit(self) -> ErrorType {
        self.pick(types::INDEX_LIMIT_EXCEEDED, types::COLUMN_INDEX_LIMIT_EXCEEDED)
    }
}

/// Both APIs' routes. Path parameter names are shared where axum needs them to be.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/v1/databases", get(databases::list_legacy).post(databases::create_legacy))
        .route(
            "/v1/databases/{databaseId}",
            get(databases::get_legacy).put(databases::update_legacy).delete(databases::delete_legacy),
        )
        .route("/v1/tablesdb", get(databases::list_tables).post(databases::create_tables))
        .route(
            "/v1/tablesdb/{databaseId}",
            get(databases::get_tables).put(databases::update_tables).delete(databases::delete_tables),
        );
    for api in [Api::Legacy, Api::Tables] {
        let txns = match api {
            Api::Legacy => "/v1/databases/transactions",
            Api::Tables => "/v1/tablesdb/transactions",
        };
        router = router
            .route(txns, get(move |c, p| transactions::list(api, c, p)).post(move |c, p| transactions::create(api, c, p)))
            .route(
                &format!("{txns}/{{transactionId}}"),
                get(move |c, p| transactions::get(api, c, p))
                    .patch(move |c, p| transactions::update(api, c, p))
                    .delete(move |c, p| transactions::delete(api, c, p)),
            )
            .route(&format!("{txns}/{{transactionId}}/operations"), post(move |c, p| transactions::create_operations(api, c, p)));
        let base = match api {
            Api::Legacy => "/v1/databases/{databaseId}/collections",
            Api::Tables => "/v1/tablesdb/{databaseId}/tables",
        };
        let (coll, attrs, docs, doc, attr) = match api {
            Api::Legacy => ("{collectionId}", "attributes", "documents", "{documentId}", "{attribute}"),
            Api::Tables => ("{tableId}", "columns", "rows", "{rowId}", "{column}"),
        };
        router = router
            .route(base, get(move |c, p| collections::list(api, c, p)).post(move |c, p| collections::create(api, c, p)))
            .route(
                &format!("{base}/{coll}"),
                get(move |c, p| collections::get(api, c, p))
                    .put(move |c, p| collections::update(api, c, p))
                    .delete(move |c, p| collections::delete(api, c, p)),
            )
            .route(&format!("{base}/{coll}/{attrs}"), get(move |c, p| attributes::list(api, c, p)))
            .route(
                &format!("{base}/{coll}/{attrs}/{{key}}"),
                get(move |c, p| attributes::get(api, c, p))
                    .delete(move |c, p| attributes::delete(api, c, p))
                    .post(move |c, p| attributes::create(api, c, p)),
            )
            .route(&format!("{base}/{coll}/{attrs}/{{key}}/{{sub}}"), patch(move |c, p| attributes::update(api, c, p)))
            .route(
                &format!("{base}/{coll}/indexes"),
                get(move |c, p| indexes::list(api, c, p)).post(move |c, p| indexes::create(api, c, p)),
            )
            .route(
                &format!("{base}/{coll}/indexes/{{key}}"),
                get(move |c, p| indexes::get(api, c, p)).delete(move |c, p| indexes::delete(api, c, p)),
            )
            .route(
                &format!("{base}/{coll}/{docs}"),
                get(move |c, p| documents::list(api, c, p))
                    .post(move |c, p| documents::create(api, c, p))
                    .put(move |c, p| documents::bulk_upsert(api, c, p))
                    .patch(move |c, p| documents::bulk_update(api, c, p))
                    .delete(move |c, p| documents::bulk_delete(api, c, p)),
            )
            .route(&format!("{base}/{coll}/{docs}/query"), post(move |c, p| documents::list(api, c, p)))
            .route(
                &format!("{base}/{coll}/{docs}/{doc}"),
                get(move |c, p| documents::get(api, c, p))
                    .put(move |c, p| documents::upsert(api, c, p))
                    .patch(move |c, p| documents::update(api, c, p))
                    .delete(move |c, p| documents::delete(api, c, p)),
            )
            .route(
                &format!("{base}/{coll}/{docs}/{doc}/{attr}/increment"),
                patch(move |c, p| documents::increment(api, c, p, 1.0)),
            )
            .route(
                &format!("{base}/{coll}/{docs}/{doc}/{attr}/decrement"),
                patch(move |c, p| documents::increment(api, c, p, -1.0)),
            );
    }
    router
}
