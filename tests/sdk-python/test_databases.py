"""Databases and collections/tables: CRUD, lists with queries and search, through both services."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role

from conftest import error_of, unique


def test_database_crud(store):
    db_id = unique("db")
    created = store.create_database(db_id, name="Main")
    assert created.id == db_id and created.name == "Main" and created.enabled is True
    assert created.type.value == ("legacy" if store.legacy else "tablesdb")
    got = store.get_database(db_id)
    assert got.name == "Main" and got.createdat == created.createdat

    updated = store.update_database(db_id, name="Renamed", enabled=False)
    assert updated.name == "Renamed" and updated.enabled is False
    assert updated.updatedat >= created.updatedat

    store.delete_database(db_id)
    with pytest.raises(AppwriteException) as e:
        store.get_database(db_id)
    assert error_of(e) == (404, "database_not_found", f"Database with the requested ID '{db_id}' could not be found.")


def test_database_unique_id_and_duplicates(store):
    made = store.create_database(ID.unique(), name="Generated")
    assert len(made.id) == 20
    with pytest.raises(AppwriteException) as e:
        store.create_database(made.id, name="Again")
    assert error_of(e)[:2] == (409, "database_already_exists")
    store.delete_database(made.id)


def test_database_list_queries_and_search(store):
    tag = unique("z")
    ids = [store.create_database(f"{tag}{i}", name=f"alpha {tag} {i}").id for i in range(3)]
    try:
        found = store.list_databases(search=tag)
        assert sorted(d.id for d in found.databases) == ids and found.total == 3
        page = store.list_databases(queries=[Query.equal("name", [f"alpha {tag} 1"])])
        assert [d.id for d in page.databases] == [ids[1]]
        desc = store.list_databases(queries=[Query.starts_with("name", f"alpha {tag}"), Query.order_desc("name"), Query.limit(2)])
        assert [d.id for d in desc.databases] == [ids[2], ids[1]] and desc.total == 3
        after = store.list_databases(queries=[Query.starts_with("name", f"alpha {tag}"), Query.cursor_after(ids[0])])
        assert [d.id for d in after.databases] == ids[1:]
        no_total = store.list_databases(queries=[Query.starts_with("name", f"alpha {tag}")], total=False)
        assert no_total.total == 0 and len(no_total.databases) == 3
        with pytest.raises(AppwriteException) as e:
            store.list_databases(queries=[Query.equal("nope", ["x"])])
        assert error_of(e) == (400, "general_argument_invalid", "Invalid `queries` param: Invalid query: Attribute not found in schema: nope")
        with pytest.raises(AppwriteException) as e:
            store.list_databases(queries=[Query.cursor_after("missing")])
        assert error_of(e) == (400, "general_cursor_not_found", "Database 'missing' for the 'cursor' value not found.")
    finally:
        for i in ids:
            store.delete_database(i)


def test_collection_crud(store, sdb):
    perms = [Permission.read(Role.any()), Permission.write(Role.users())]
    c = store.create_collection(sdb, "tasks", name="Tasks", permissions=perms, security=True)
    assert c.id == "tasks" and c.name == "Tasks" and c.databaseid == sdb
    # write expands to create, update and delete at collection level
    assert c.permissions == ['read("any")', 'create("users")', 'update("users")', 'delete("users")']
    assert (c.documentsecurity if store.legacy else c.rowsecurity) is True

    got = store.get_collection(sdb, "tasks")
    assert got.name == "Tasks" and got.enabled is True
    up = store.update_collection(sdb, "tasks", name="Jobs", security=False, enabled=False, permissions=[Permission.read(Role.users())])
    assert up.name == "Jobs" and up.enabled is False and up.permissions == ['read("users")']
    assert (up.documentsecurity if store.legacy else up.rowsecurity) is False

    store.delete_collection(sdb, "tasks")
    with pytest.raises(AppwriteException) as e:
        store.get_collection(sdb, "tasks")
    word = store.coll_word.capitalize()
    assert error_of(e) == (404, store.error("collection_not_found"), f"{word} with the requested ID 'tasks' could not be found.")


def test_collection_duplicates_and_missing_database(store, sdb):
    store.create_collection(sdb, "dup")
    with pytest.raises(AppwriteException) as e:
        store.create_collection(sdb, "dup")
    assert error_of(e)[:2] == (409, store.error("collection_already_exists"))
    with pytest.raises(AppwriteException) as e:
        store.create_collection("no-such-db", "x")
    assert error_of(e)[:2] == (404, "database_not_found")


def test_collection_list_queries_and_search(store, sdb):
    for i, name in enumerate(["Invoices", "Jobs", "Logs"]):
        store.create_collection(sdb, f"c{i}", name=name, security=(i == 1))
    assert store.list_collections(sdb).total == 3
    assert [c.id for c in store.list_collections(sdb, search="Jobs").__dict__[store.coll_word + "s"]] == ["c1"]
    sec = "documentSecurity" if store.legacy else "rowSecurity"
    page = store.list_collections(sdb, queries=[Query.equal(sec, [True])])
    assert [c.id for c in getattr(page, store.coll_word + "s")] == ["c1"]
    page = store.list_collections(sdb, queries=[Query.order_desc("name"), Query.offset(1), Query.limit(1)])
    assert [c.id for c in getattr(page, store.coll_word + "s")] == ["c1"]


def test_create_collection_with_inline_attributes_and_indexes(store, sdb):
    attrs = [
        {"key": "title", "type": "string", "size": 64, "required": True},
        {"key": "count", "type": "integer", "required": False, "min": 0, "max": 10},
    ]
    idx = [{"key": "by_title", "type": "unique", "attributes": ["title"], "orders": ["ASC"]}]
    if not store.legacy:
        idx = [{"key": "by_title", "type": "unique", "columns": ["title"], "orders": ["ASC"]}]
    c = store.create_collection(sdb, "inline", attributes=attrs, indexes=idx)
    cols = c.attributes if store.legacy else c.columns
    assert [a.key for a in cols] == ["title", "count"]
    assert [i.key for i in c.indexes] == ["by_title"]
    store.create(sdb, "inline", "a", {"title": "x"})
    with pytest.raises(AppwriteException) as e:
        store.create(sdb, "inline", "b", {"title": "x"})
    assert error_of(e)[:2] == (409, store.error("document_already_exists"))


def test_legacy_attribute_routes_work_on_tablesdb_tables(tables, databases, tdb):
    tables.create_table(database_id=tdb, table_id="t", name="T")
    databases.create_string_attribute(database_id=tdb, collection_id="t", key="s", size=10, required=False)
    databases.create_index(database_id=tdb, collection_id="t", key="i", type="key", attributes=["s"])
    assert [c.key for c in tables.list_columns(database_id=tdb, table_id="t").columns] == ["s"]
    assert tables.get_index(database_id=tdb, table_id="t", key="i").columns == ["s"]
    row = tables.create_row(database_id=tdb, table_id="t", row_id="r", data={"s": "v"})
    doc = databases.get_document(database_id=tdb, collection_id="t", document_id="r")
    assert row.data["s"] == doc.data["s"] == "v"


def test_list_databases_of_both_types(databases, tables):
    legacy, tdb = unique("db"), unique("db")
    databases.create(database_id=legacy, name="L")
    tables.create(database_id=tdb, name="T")
    try:
        types = {d.id: d.type.value for d in tables.list(search=legacy).databases + tables.list(search=tdb).databases}
        assert types == {legacy: "legacy", tdb: "tablesdb"}
    finally:
        databases.delete(database_id=legacy)
        tables.delete(database_id=tdb)
