"""Documents/rows: create (unique() IDs), get with select, list, update, upsert, delete,
increment/decrement (atomic under concurrency), bulk operations."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role

from conftest import error_of


@pytest.fixture
def coll(store, sdb):
    store.create_collection(sdb, "c")
    store.create_attribute("string", sdb, "c", "title", size=50, required=True)
    store.create_attribute("integer", sdb, "c", "n", required=False, min=0, max=1000)
    store.create_attribute("float", sdb, "c", "score", required=False)
    store.create_attribute("boolean", sdb, "c", "done", required=False, default=False)
    return sdb


def test_create_get_and_sequence(store, coll):
    d = store.create(coll, "c", ID.unique(), {"title": "first", "n": 1})
    assert len(d.id) == 20 and d.data["title"] == "first" and d.data["done"] is False
    assert isinstance(d.sequence, str) and int(d.sequence) >= 1
    assert d.databaseid == coll
    assert (d.collectionid if store.legacy else d.tableid) == "c"
    assert d.permissions == []  # an API key gets no default permissions
    got = store.get(coll, "c", d.id)
    assert got.data == d.data and got.createdat == d.createdat
    with pytest.raises(AppwriteException) as e:
        store.create(coll, "c", d.id, {"title": "again"})
    word = store.doc_word.capitalize()
    assert error_of(e) == (409, store.error("document_already_exists"), f"{word} with the requested ID '{d.id}' already exists. Try again with a different ID or use ID.unique() to generate a unique ID.")
    with pytest.raises(AppwriteException) as e:
        store.get(coll, "c", "missing")
    assert error_of(e) == (404, store.error("document_not_found"), f"{word} with the requested ID 'missing' could not be found.")


def test_select(store, coll):
    d = store.create(coll, "c", "s", {"title": "t", "n": 2, "score": 1.5})
    got = store.get(coll, "c", "s", queries=[Query.select(["title"])])
    assert got.data == {"title": "t"} and got.id == "s" and got.permissions == []
    page = store.list(coll, "c", [Query.select(["n", "score"])])
    assert store.items(page)[0].data == {"n": 2, "score": 1.5}
    with pytest.raises(AppwriteException) as e:
        store.get(coll, "c", d.id, queries=[Query.select(["nope"])])
    assert error_of(e) == (400, "general_query_invalid", "Invalid query: Attribute not found in schema: nope")


def test_update_is_partial_and_keeps_permissions(store, coll):
    perms = [Permission.read(Role.any())]
    store.create(coll, "c", "u", {"title": "t", "n": 1}, permissions=perms)
    up = store.update(coll, "c", "u", data={"n": 5})
    assert up.data["title"] == "t" and up.data["n"] == 5 and up.permissions == ['read("any")']
    up = store.update(coll, "c", "u", permissions=[Permission.read(Role.users())])
    assert up.permissions == ['read("users")'] and up.data["n"] == 5
    with pytest.raises(AppwriteException) as e:
        store.update(coll, "c", "u", data={})
    assert error_of(e)[:2] == (400, store.error("document_missing_payload"))
    with pytest.raises(AppwriteException) as e:
        store.update(coll, "c", "missing", data={"n": 1})
    assert error_of(e)[:2] == (404, store.error("document_not_found"))
    with pytest.raises(AppwriteException) as e:
        store.update(coll, "c", "u", data={"n": 5000})
    assert error_of(e)[:2] == (400, store.error("document_invalid_structure"))
    assert store.get(coll, "c", "u").data["n"] == 5


def test_upsert_creates_then_merges(store, coll):
    made = store.upsert(coll, "c", "up", data={"title": "new", "n": 3})
    assert made.data["title"] == "new"
    merged = store.upsert(coll, "c", "up", data={"title": "newer"})
    assert merged.data["title"] == "newer" and merged.data["n"] == 3
    assert merged.createdat == made.createdat and merged.updatedat >= made.updatedat
    with pytest.raises(AppwriteException) as e:
        store.upsert(coll, "c", "up", data={"n": 4})  # an upsert must send required attributes
    assert error_of(e)[2] == 'Invalid document structure: Missing required attribute "title"'


def test_delete(store, coll):
    store.create(coll, "c", "del", {"title": "x"})
    assert store.delete(coll, "c", "del") == b""
    with pytest.raises(AppwriteException) as e:
        store.delete(coll, "c", "del")
    assert error_of(e)[:2] == (404, store.error("document_not_found"))


def test_increment_decrement_with_bounds(store, coll):
    store.create(coll, "c", "i", {"title": "x", "n": 10, "score": 1.0})
    assert store.increment(coll, "c", "i", "n").data["n"] == 11
    assert store.increment(coll, "c", "i", "n", value=4).data["n"] == 15
    assert store.decrement(coll, "c", "i", "n", value=5).data["n"] == 10
    assert store.increment(coll, "c", "i", "score", value=0.5).data["score"] == 1.5
    ns = "databases" if store.legacy else "tablesDB"
    with pytest.raises(AppwriteException) as e:
        store.increment(coll, "c", "i", "n", value=5, max=12)
    assert error_of(e) == (400, store.error("attribute_limit_exceeded"), f'{ns} "n" has reached the maximum value of 12')
    with pytest.raises(AppwriteException) as e:
        store.decrement(coll, "c", "i", "n", value=5, min=8)
    assert error_of(e) == (400, store.error("attribute_limit_exceeded"), f'{ns} "n" has reached the minimum value of 8')
    with pytest.raises(AppwriteException) as e:
        store.increment(coll, "c", "i", "title")
    # 1.9.6 names the legacy type on both APIs here.
    assert error_of(e) == (400, "attribute_type_invalid", f'{ns} "title" is not a number')
    assert store.get(coll, "c", "i").data["n"] == 10


def test_concurrent_increments_lose_nothing(store, coll, client):
    store.create(coll, "c", "counter", {"title": "x", "n": 0})

    def bump(_):
        store.increment(coll, "c", "counter", "n")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(bump, range(200)))
    assert store.get(coll, "c", "counter").data["n"] == 200


def test_bulk_create_update_upsert_delete(store, coll):
    docs = [{"$id": f"b{i}", "title": f"t{i}", "n": i} for i in range(5)]
    made = store.create_many(coll, "c", docs)
    assert made.total == 5 and [d.id for d in store.items(made)] == [f"b{i}" for i in range(5)]
    up = store.update_many(coll, "c", data={"done": True}, queries=[Query.greater_than_equal("n", 3)])
    assert up.total == 2 and all(d.data["done"] for d in store.items(up))
    ups = store.upsert_many(coll, "c", [{"$id": "b0", "title": "zero", "n": 0}, {"$id": "b9", "title": "nine", "n": 9}])
    assert ups.total == 2
    assert store.get(coll, "c", "b0").data["title"] == "zero"
    gone = store.delete_many(coll, "c", queries=[Query.less_than("n", 2)])
    assert gone.total == 2
    assert sorted(d.id for d in store.items(store.list(coll, "c"))) == ["b2", "b3", "b4", "b9"]


def test_bulk_is_atomic(store, coll):
    bad = [{"$id": "ok1", "title": "fine"}, {"$id": "ok2", "title": None}]
    with pytest.raises(AppwriteException) as e:
        store.create_many(coll, "c", bad)
    assert error_of(e)[:2] == (400, store.error("document_invalid_structure"))
    assert store.list(coll, "c").total == 0


def test_bulk_limit_and_mixed_params(store, coll, api):
    too_many = [{"title": str(i)} for i in range(101)]
    with pytest.raises(AppwriteException) as e:
        store.create_many(coll, "c", too_many)
    assert error_of(e)[:2] == (400, "general_argument_invalid")
    base = f"/{'databases' if store.legacy else 'tablesdb'}/{coll}/{'collections' if store.legacy else 'tables'}/c/{store.docs_key}"
    r = api.call("POST", base, json={"data": {"title": "a"}, store.docs_key: [{"title": "b"}], f"{store.doc_word}Id": "x"})
    assert r.status_code == 400 and r.json()["type"] == "general_bad_request"
    r = api.call("POST", base, json={"data": {"title": "a"}})
    assert r.status_code == 400 and r.json()["type"] == store.error("document_missing_data")
    assert r.json()["message"] == f"{store.doc_word.capitalize()} ID is required when creating a single {store.doc_word}."
    assert store.list(coll, "c").total == 0


def test_read_only_keys_are_ignored_and_dates_honoured_for_keys(store, coll):
    d = store.create(coll, "c", "ro", {"title": "x", "$sequence": "999", "$databaseId": "other", "$createdAt": "2020-01-01T00:00:00.000+00:00"})
    assert d.databaseid == coll and d.sequence != "999"
    assert d.createdat == "2020-01-01T00:00:00.000+00:00"
