"""One vocabulary over the two database services of the SDK, so each scenario runs against the
legacy `Databases` API and `TablesDB` alike (the emulator serves both from one store)."""

from appwrite.services.databases import Databases
from appwrite.services.tables_db import TablesDB


class Store:
    """Calls the real SDK methods of one service; names follow the legacy API."""

    def __init__(self, kind, client):
        self.kind = kind
        self.legacy = kind == "legacy"
        self.svc = Databases(client) if self.legacy else TablesDB(client)
        # words as they appear in responses and errors
        self.coll_word = "collection" if self.legacy else "table"
        self.doc_word = "document" if self.legacy else "row"
        self.docs_key = "documents" if self.legacy else "rows"
        self.attr_word = "attribute" if self.legacy else "column"

    # databases
    def create_database(self, database_id, name="DB", **kw):
        return self.svc.create(database_id=database_id, name=name, **kw)

    def get_database(self, database_id):
        return self.svc.get(database_id=database_id)

    def list_databases(self, **kw):
        return self.svc.list(**kw)

    def update_database(self, database_id, **kw):
        return self.svc.update(database_id=database_id, **kw)

    def delete_database(self, database_id):
        return self.svc.delete(database_id=database_id)

    # collections / tables
    def create_collection(self, db, cid, name="C", permissions=None, security=None, **kw):
        if self.legacy:
            return self.svc.create_collection(database_id=db, collection_id=cid, name=name, permissions=permissions, document_security=security, **kw)
        if "attributes" in kw:
            kw["columns"] = kw.pop("attributes")
        return self.svc.create_table(database_id=db, table_id=cid, name=name, permissions=permissions, row_security=security, **kw)

    def get_collection(self, db, cid):
        return self.svc.get_collection(database_id=db, collection_id=cid) if self.legacy else self.svc.get_table(database_id=db, table_id=cid)

    def list_collections(self, db, **kw):
        return self.svc.list_collections(database_id=db, **kw) if self.legacy else self.svc.list_tables(database_id=db, **kw)

    def update_collection(self, db, cid, security=None, **kw):
        if self.legacy:
            return self.svc.update_collection(database_id=db, collection_id=cid, document_security=security, **kw)
        return self.svc.update_table(database_id=db, table_id=cid, row_security=security, **kw)

    def delete_collection(self, db, cid):
        return self.svc.delete_collection(database_id=db, collection_id=cid) if self.legacy else self.svc.delete_table(database_id=db, table_id=cid)

    # attributes / columns
    def create_attribute(self, type_, db, cid, key, **kw):
        method = {
            "bigint": "big_int",
        }.get(type_, type_)
        name = f"create_{method}_attribute" if self.legacy else f"create_{method}_column"
        ids = {"collection_id": cid} if self.legacy else {"table_id": cid}
        return getattr(self.svc, name)(database_id=db, key=key, **ids, **kw)

    def update_attribute(self, type_, db, cid, key, **kw):
        method = {"bigint": "big_int"}.get(type_, type_)
        name = f"update_{method}_attribute" if self.legacy else f"update_{method}_column"
        ids = {"collection_id": cid} if self.legacy else {"table_id": cid}
        return getattr(self.svc, name)(database_id=db, key=key, **ids, **kw)

    def get_attribute(self, db, cid, key):
        if self.legacy:
            return self.svc.get_attribute(database_id=db, collection_id=cid, key=key)
        return self.svc.get_column(database_id=db, table_id=cid, key=key)

    def list_attributes(self, db, cid, **kw):
        if self.legacy:
            return self.svc.list_attributes(database_id=db, collection_id=cid, **kw)
        return self.svc.list_columns(database_id=db, table_id=cid, **kw)

    def delete_attribute(self, db, cid, key):
        if self.legacy:
            return self.svc.delete_attribute(database_id=db, collection_id=cid, key=key)
        return self.svc.delete_column(database_id=db, table_id=cid, key=key)

    # indexes
    def create_index(self, db, cid, key, type_, attributes, **kw):
        if self.legacy:
            return self.svc.create_index(database_id=db, collection_id=cid, key=key, type=type_, attributes=attributes, **kw)
        return self.svc.create_index(database_id=db, table_id=cid, key=key, type=type_, columns=attributes, **kw)

    def get_index(self, db, cid, key):
        ids = {"collection_id": cid} if self.legacy else {"table_id": cid}
        return self.svc.get_index(database_id=db, key=key, **ids)

    def list_indexes(self, db, cid, **kw):
        ids = {"collection_id": cid} if self.legacy else {"table_id": cid}
        return self.svc.list_indexes(database_id=db, **ids, **kw)

    def delete_index(self, db, cid, key):
        ids = {"collection_id": cid} if self.legacy else {"table_id": cid}
        return self.svc.delete_index(database_id=db, key=key, **ids)

    # documents / rows
    def create(self, db, cid, doc_id, data, **kw):
        if self.legacy:
            return self.svc.create_document(database_id=db, collection_id=cid, document_id=doc_id, data=data, **kw)
        return self.svc.create_row(database_id=db, table_id=cid, row_id=doc_id, data=data, **kw)

    def create_many(self, db, cid, docs, **kw):
        if self.legacy:
            return self.svc.create_documents(database_id=db, collection_id=cid, documents=docs, **kw)
        return self.svc.create_rows(database_id=db, table_id=cid, rows=docs, **kw)

    def get(self, db, cid, doc_id, **kw):
        if self.legacy:
            return self.svc.get_document(database_id=db, collection_id=cid, document_id=doc_id, **kw)
        return self.svc.get_row(database_id=db, table_id=cid, row_id=doc_id, **kw)

    def list(self, db, cid, queries=None, **kw):
        if self.legacy:
            return self.svc.list_documents(database_id=db, collection_id=cid, queries=queries, **kw)
        return self.svc.list_rows(database_id=db, table_id=cid, queries=queries, **kw)

    def query(self, db, cid, queries=None, **kw):
        """The Python-only POST …/query form of list."""
        if self.legacy:
            return self.svc.create_query(database_id=db, collection_id=cid, queries=queries, **kw)
        return self.svc.create_query(database_id=db, table_id=cid, queries=queries, **kw)

    def update(self, db, cid, doc_id, **kw):
        if self.legacy:
            return self.svc.update_document(database_id=db, collection_id=cid, document_id=doc_id, **kw)
        return self.svc.update_row(database_id=db, table_id=cid, row_id=doc_id, **kw)

    def upsert(self, db, cid, doc_id, **kw):
        if self.legacy:
            return self.svc.upsert_document(database_id=db, collection_id=cid, document_id=doc_id, **kw)
        return self.svc.upsert_row(database_id=db, table_id=cid, row_id=doc_id, **kw)

    def upsert_many(self, db, cid, docs, **kw):
        if self.legacy:
            return self.svc.upsert_documents(database_id=db, collection_id=cid, documents=docs, **kw)
        return self.svc.upsert_rows(database_id=db, table_id=cid, rows=docs, **kw)

    def update_many(self, db, cid, **kw):
        if self.legacy:
            return self.svc.update_documents(database_id=db, collection_id=cid, **kw)
        return self.svc.update_rows(database_id=db, table_id=cid, **kw)

    def delete_many(self, db, cid, **kw):
        if self.legacy:
            return self.svc.delete_documents(database_id=db, collection_id=cid, **kw)
        return self.svc.delete_rows(database_id=db, table_id=cid, **kw)

    def delete(self, db, cid, doc_id, **kw):
        if self.legacy:
            return self.svc.delete_document(database_id=db, collection_id=cid, document_id=doc_id, **kw)
        return self.svc.delete_row(database_id=db, table_id=cid, row_id=doc_id, **kw)

    def increment(self, db, cid, doc_id, attr, **kw):
        if self.legacy:
            return self.svc.increment_document_attribute(database_id=db, collection_id=cid, document_id=doc_id, attribute=attr, **kw)
        return self.svc.increment_row_column(database_id=db, table_id=cid, row_id=doc_id, column=attr, **kw)

    def decrement(self, db, cid, doc_id, attr, **kw):
        if self.legacy:
            return self.svc.decrement_document_attribute(database_id=db, collection_id=cid, document_id=doc_id, attribute=attr, **kw)
        return self.svc.decrement_row_column(database_id=db, table_id=cid, row_id=doc_id, column=attr, **kw)

    def items(self, page):
        """The documents or rows of a list response."""
        return page.documents if self.legacy else page.rows

    def error(self, name):
        """An error type in this service's vocabulary (`document_not_found` → `row_not_found`)."""
        if self.legacy:
            return name
        for a, b in [("document_", "row_"), ("collection_", "table_"), ("attribute_", "column_"), ("index_", "column_index_")]:
            if name.startswith(a):
                return b + name[len(a):]
        return name

    # relationships
    def create_relationship(self, db, cid, related, type_, **kw):
        if self.legacy:
            return self.svc.create_relationship_attribute(database_id=db, collection_id=cid, related_collection_id=related, type=type_, **kw)
        return self.svc.create_relationship_column(database_id=db, table_id=cid, related_table_id=related, type=type_, **kw)

    def update_relationship(self, db, cid, key, **kw):
        if self.legacy:
            return self.svc.update_relationship_attribute(database_id=db, collection_id=cid, key=key, **kw)
        return self.svc.update_relationship_column(database_id=db, table_id=cid, key=key, **kw)

    # transactions
    def create_transaction(self, **kw):
        return self.svc.create_transaction(**kw)

    def get_transaction(self, tid):
        return self.svc.get_transaction(transaction_id=tid)

    def list_transactions(self, **kw):
        return self.svc.list_transactions(**kw)

    def update_transaction(self, tid, **kw):
        return self.svc.update_transaction(transaction_id=tid, **kw)

    def delete_transaction(self, tid):
        return self.svc.delete_transaction(transaction_id=tid)

    def create_operations(self, tid, operations):
        return self.svc.create_operations(transaction_id=tid, operations=operations)

    def op(self, action, db, cid, doc_id=None, data=None):
        """One item of `operations` in this service's vocabulary."""
        o = {"action": action, "databaseId": db, ("collectionId" if self.legacy else "tableId"): cid}
        if doc_id is not None:
            o["documentId" if self.legacy else "rowId"] = doc_id
        if data is not None:
            o["data"] = data
        return o

    @property
    def related_key(self):
        return "relatedCollection" if self.legacy else "relatedTable"

    @property
    def api_base(self):
        return "/databases" if self.legacy else "/tablesdb"

    def path(self, db, cid, *rest):
        """A raw REST path under this service (`/databases/db/collections/c/…`)."""
        parts = [self.api_base, db, "collections" if self.legacy else "tables", cid, *rest]
        return "/".join(parts)
