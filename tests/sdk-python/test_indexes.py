"""Indexes: key, unique (enforced), fulltext (search), with orders; get, list, delete."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.query import Query

from conftest import error_of


@pytest.fixture
def coll(store, sdb):
    store.create_collection(sdb, "c")
    store.create_attribute("string", sdb, "c", "email", size=64, required=False)
    store.create_attribute("string", sdb, "c", "body", size=500, required=False)
    store.create_attribute("integer", sdb, "c", "n", required=False)
    store.create_attribute("string", sdb, "c", "tags", size=10, required=False, array=True)
    return sdb


def test_index_crud_and_orders(store, coll):
    made = store.create_index(coll, "c", "by_n", "key", ["n", "email"], orders=["DESC", "ASC"])
    assert made.key == "by_n" and made.type == "key" and made.orders == ["DESC", "ASC"]
    assert getattr(made.status, "value", made.status) == "processing"
    got = store.get_index(coll, "c", "by_n")
    assert (got.attributes if store.legacy else got.columns) == ["n", "email"] and getattr(got.status, "value", got.status) == "available"
    store.create_index(coll, "c", "by_email", "unique", ["email"])
    listed = store.list_indexes(coll, "c")
    assert listed.total == 2 and [i.key for i in listed.indexes] == ["by_n", "by_email"]
    only_unique = store.list_indexes(coll, "c", queries=[Query.equal("type", ["unique"])])
    assert [i.key for i in only_unique.indexes] == ["by_email"]
    store.delete_index(coll, "c", "by_n")
    with pytest.raises(AppwriteException) as e:
        store.get_index(coll, "c", "by_n")
    assert error_of(e) == (404, store.error("index_not_found"), "Index with the requested key 'by_n' could not be found.")
    with pytest.raises(AppwriteException) as e:
        store.create_index(coll, "c", "by_email", "key", ["n"])
    assert error_of(e)[:2] == (409, store.error("index_already_exists"))


def test_unique_index_rejects_duplicates_case_insensitively(store, coll):
    store.create_index(coll, "c", "u", "unique", ["email"])
    store.create(coll, "c", "a", {"email": "ann@example.com"})
    for dup in ("ann@example.com", "ANN@example.com"):
        with pytest.raises(AppwriteException) as e:
            store.create(coll, "c", "b", {"email": dup})
        assert error_of(e)[:2] == (409, store.error("document_already_exists"))
    store.create(coll, "c", "b", {"email": "bob@example.com"})
    with pytest.raises(AppwriteException) as e:
        store.update(coll, "c", "b", data={"email": "ann@example.com"})
    assert error_of(e)[:2] == (409, store.error("document_already_exists"))
    assert store.get(coll, "c", "b").data["email"] == "bob@example.com"
    # nulls do not collide
    store.create(coll, "c", "x", {"n": 1})
    store.create(coll, "c", "y", {"n": 2})


def test_unique_index_over_existing_duplicates_is_refused(store, coll):
    store.create(coll, "c", "a", {"n": 1})
    store.create(coll, "c", "b", {"n": 1})
    with pytest.raises(AppwriteException) as e:
        store.create_index(coll, "c", "u", "unique", ["n"])
    assert error_of(e)[:2] == (400, store.error("index_invalid"))
    assert store.list_indexes(coll, "c").total == 0


def test_fulltext_search(store, coll):
    store.create_index(coll, "c", "ft", "fulltext", ["body"])
    store.create(coll, "c", "a", {"body": "the quick brown fox"})
    store.create(coll, "c", "b", {"body": "lazy dogs sleep"})
    store.create(coll, "c", "c", {"body": "quickly jumping"})
    ids = lambda qs: sorted(d.id for d in store.items(store.list(coll, "c", qs)))  # noqa: E731
    assert ids([Query.search("body", "fox")]) == ["a"]
    assert ids([Query.search("body", "quick")]) == ["a", "c"]  # the last word is a prefix
    assert ids([Query.search("body", "dogs fox")]) == ["a", "b"]  # words are OR-ed
    assert ids([Query.not_search("body", "fox")]) == ["b", "c"]
    store.update(coll, "c", "b", data={"body": "a fox now"})
    assert ids([Query.search("body", "fox")]) == ["a", "b"]
    store.delete(coll, "c", "a")
    assert ids([Query.search("body", "fox")]) == ["b"]


def test_invalid_indexes(store, coll):
    cases = [
        (["nope"], "key", 400, store.error("attribute_unknown")),
        (["tags"], "key", 400, "index_invalid"),
        (["n"], "fulltext", 400, store.error("index_invalid")),
        (["email", "email"], "key", 400, store.error("index_invalid")),
    ]
    for attrs, type_, code, kind in cases:
        with pytest.raises(AppwriteException) as e:
            store.create_index(coll, "c", "bad", type_, attrs)
        assert error_of(e)[:2] == (code, kind), attrs
    with pytest.raises(AppwriteException) as e:
        store.create_index(coll, "c", "bad", "fulltext", ["n"])
    assert error_of(e)[2] == 'Attribute "n" cannot be part of a fulltext index, must be of type string'
    assert store.list_indexes(coll, "c").total == 0
