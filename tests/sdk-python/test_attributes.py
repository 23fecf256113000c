"""Attributes/columns of every non-spatial type: create, get, list, update, delete, and the
values documents may then hold."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.query import Query

from conftest import error_of

# (type, create kwargs, a valid value, an invalid value, the expected structure error message)
TYPES = [
    ("string", {"size": 5}, "hello", "toolong", 'Attribute "f" has invalid type. Value must be a valid string and no longer than 5 chars'),
    ("varchar", {"size": 3}, "abc", 42, 'Attribute "f" has invalid type. Value must be a valid string and no longer than 3 chars'),
    ("text", {}, "x" * 1000, 5, 'Attribute "f" has invalid type. Value must be a valid string no longer than 65535 bytes'),
    ("mediumtext", {}, "medium", True, 'Attribute "f" has invalid type. Value must be a valid string no longer than 16777215 bytes'),
    ("longtext", {}, "long", [], 'Attribute "f" has invalid type. Value must be a valid string no longer than 4294967295 bytes'),
    ("integer", {"min": 1, "max": 10}, 7, 11, 'Attribute "f" has invalid format. Value must be a valid range between 1 and 10'),
    ("bigint", {"min": 0, "max": 9007199254740993}, 9007199254740000, -1, 'Attribute "f" has invalid format. Value must be a valid range between 0 and 9,007,199,254,740,993'),
    ("float", {"min": 0.5, "max": 1.5}, 1.25, 2.5, 'Attribute "f" has invalid format. Value must be a valid range between 1 and 2'),
    ("boolean", {}, True, "yes", 'Attribute "f" has invalid type. Value must be a valid boolean'),
    ("email", {}, "a@example.com", "not-an-email", 'Attribute "f" has invalid format. Value must be a valid email address'),
    ("enum", {"elements": ["yes", "no", "maybe"]}, "maybe", "never", 'Attribute "f" has invalid format. Value must be one of (yes, no, maybe)'),
    ("url", {}, "https://appwrite.io/docs", "appwrite", 'Attribute "f" has invalid format. Value must be a valid URL'),
    ("ip", {}, "10.0.0.1", "999.1.1.1", 'Attribute "f" has invalid format. Value must be a valid IP address'),
    ("datetime", {}, "2026-01-02T03:04:05.000+00:00", "yesterday", 'Attribute "f" has invalid format. Value must be valid date between 0000-01-01 00:00:00 and 9999-12-31 00:00:00.'),
]

STORED_TYPE = {"float": "double", "email": "string", "enum": "string", "url": "string", "ip": "string"}


@pytest.mark.parametrize("type_,kwargs,good,bad,message", TYPES, ids=[t[0] for t in TYPES])
def test_each_type_round_trips_and_rejects_bad_values(store, sdb, type_, kwargs, good, bad, message):
    store.create_collection(sdb, "c")
    created = store.create_attribute(type_, sdb, "c", "f", required=False, **kwargs)
    assert created.key == "f" and created.type == STORED_TYPE.get(type_, type_)
    assert created.status.value == "processing"
    assert store.get_attribute(sdb, "c", "f").status.value == "available"

    doc = store.create(sdb, "c", "ok", {"f": good})
    assert doc.data["f"] == good
    with pytest.raises(AppwriteException) as e:
        store.create(sdb, "c", "bad", {"f": bad})
    assert error_of(e) == (400, store.error("document_invalid_structure"), "Invalid document structure: " + message)
    # nothing was stored by the failed write
    assert [d.id for d in store.items(store.list(sdb, "c"))] == ["ok"]


def test_required_default_and_array_rules(store, sdb):
    store.create_collection(sdb, "c")
    with pytest.raises(AppwriteException) as e:
        store.create_attribute("string", sdb, "c", "r", size=10, required=True, default="x")
    word = store.attr_word
    assert error_of(e) == (400, store.error("attribute_default_unsupported"), f"Cannot set default value for required {word}")
    with pytest.raises(AppwriteException) as e:
        store.create_attribute("integer", sdb, "c", "a", required=False, array=True, default=1)
    assert error_of(e) == (400, store.error("attribute_default_unsupported"), f"Cannot set default value for array {word}s")
    with pytest.raises(AppwriteException) as e:
        store.create_attribute("integer", sdb, "c", "m", required=False, min=10, max=1)
    assert error_of(e) == (400, store.error("attribute_value_invalid"), "Minimum value must be lesser than maximum value")

    store.create_attribute("string", sdb, "c", "name", size=20, required=True)
    store.create_attribute("integer", sdb, "c", "score", required=False, default=7)
    store.create_attribute("string", sdb, "c", "tags", size=10, required=False, array=True)
    doc = store.create(sdb, "c", "d", {"name": "n", "tags": ["a", "b"]})
    assert doc.data["score"] == 7 and doc.data["tags"] == ["a", "b"]
    with pytest.raises(AppwriteException) as e:
        store.create(sdb, "c", "e", {"score": 1})
    assert error_of(e)[2] == 'Invalid document structure: Missing required attribute "name"'
    with pytest.raises(AppwriteException) as e:
        store.create(sdb, "c", "e", {"name": "n", "tags": "notalist"})
    assert error_of(e)[2] == 'Invalid document structure: Attribute "tags" must be an array'
    with pytest.raises(AppwriteException) as e:
        store.create(sdb, "c", "e", {"name": "n", "tags": ["ok", "much too long"]})
    assert error_of(e)[2] == "Invalid document structure: Attribute \"tags['1']\" has invalid type. Value must be a valid string and no longer than 10 chars"
    with pytest.raises(AppwriteException) as e:
        store.create(sdb, "c", "e", {"name": "n", "unknown": 1})
    assert error_of(e)[2] == 'Invalid document structure: Unknown attribute: "unknown"'


def test_encrypted_strings_need_room_for_the_ciphertext(store, sdb):
    store.create_collection(sdb, "enc")
    for type_ in ("string", "varchar"):
        with pytest.raises(AppwriteException) as e:
            store.create_attribute(type_, sdb, "enc", f"short_{type_}", size=149, required=False, encrypt=True)
        assert error_of(e) == (400, "general_bad_request", "Size too small. Encrypted strings require a minimum size of 150 characters.")
        assert store.create_attribute(type_, sdb, "enc", f"secret_{type_}", size=150, required=False, encrypt=True).encrypt is True
    listed = store.list_attributes(sdb, "enc")
    assert sorted(a.key for a in (listed.attributes if store.legacy else listed.columns)) == ["secret_string", "secret_varchar"]


def test_duplicate_missing_and_list(store, sdb):
    store.create_collection(sdb, "c")
    store.create_attribute("boolean", sdb, "c", "b", required=False)
    with pytest.raises(AppwriteException) as e:
        store.create_attribute("boolean", sdb, "c", "b", required=False)
    assert error_of(e)[:2] == (409, store.error("attribute_already_exists"))
    with pytest.raises(AppwriteException) as e:
        store.get_attribute(sdb, "c", "zz")
    assert error_of(e) == (404, store.error("attribute_not_found"), f"{store.attr_word.capitalize()} with the requested key 'zz' could not be found.")
    store.create_attribute("string", sdb, "c", "s", size=3, required=True)
    listed = store.list_attributes(sdb, "c")
    items = listed.attributes if store.legacy else listed.columns
    assert listed.total == 2 and [a.key for a in items] == ["b", "s"]
    only = store.list_attributes(sdb, "c", queries=[Query.equal("type", ["string"])])
    assert [a.key for a in (only.attributes if store.legacy else only.columns)] == ["s"]


def test_update_attribute_rename_resize_and_defaults(store, sdb):
    store.create_collection(sdb, "c")
    store.create_attribute("string", sdb, "c", "s", size=10, required=False)
    store.create_index(sdb, "c", "by_s", "key", ["s"])
    store.create(sdb, "c", "d", {"s": "abcdef"})
    updated = store.update_attribute("string", sdb, "c", "s", required=False, default="dflt", size=20, new_key="title")
    assert updated.key == "title" and updated.size == 20 and updated.default == "dflt"
    assert store.get_index(sdb, "c", "by_s") is not None
    idx = store.get_index(sdb, "c", "by_s")
    assert (idx.attributes if store.legacy else idx.columns) == ["title"]
    assert store.get(sdb, "c", "d").data["title"] == "abcdef"
    # shrinking below existing data is refused
    with pytest.raises(AppwriteException) as e:
        store.update_attribute("string", sdb, "c", "title", required=False, default=None, size=3)
    assert error_of(e)[:2] == (400, store.error("attribute_invalid_resize"))
    # type mismatch between route and attribute
    with pytest.raises(AppwriteException) as e:
        store.update_attribute("integer", sdb, "c", "title", required=False, default=None)
    assert error_of(e)[:2] == (400, store.error("attribute_type_invalid"))
    store.create_attribute("integer", sdb, "c", "n", required=False, min=0, max=5)
    up = store.update_attribute("integer", sdb, "c", "n", required=False, default=3, min=0, max=100)
    assert (up.min, up.max, up.default) == (0, 100, 3)
    store.create_attribute("enum", sdb, "c", "e", elements=["a", "b"], required=False)
    up = store.update_attribute("enum", sdb, "c", "e", elements=["a", "b", "c"], required=False, default="c")
    assert up.elements == ["a", "b", "c"] and up.default == "c"


def test_delete_attribute_drops_column_and_index(store, sdb):
    store.create_collection(sdb, "c")
    store.create_attribute("string", sdb, "c", "a", size=10, required=False)
    store.create_attribute("string", sdb, "c", "b", size=10, required=False)
    store.create_index(sdb, "c", "ab", "key", ["a", "b"])
    store.create_index(sdb, "c", "only_a", "key", ["a"])
    store.create(sdb, "c", "d", {"a": "1", "b": "2"})
    store.delete_attribute(sdb, "c", "a")
    doc = store.get(sdb, "c", "d")
    assert "a" not in doc.data and doc.data["b"] == "2"
    keys = [i.key for i in store.list_indexes(sdb, "c").indexes]
    assert keys == ["ab"]
    ab = store.get_index(sdb, "c", "ab")
    assert (ab.attributes if store.legacy else ab.columns) == ["b"]
    with pytest.raises(AppwriteException) as e:
        store.delete_attribute(sdb, "c", "a")
    assert error_of(e)[:2] == (404, store.error("attribute_not_found"))


def test_new_required_attribute_on_existing_documents(store, sdb):
    store.create_collection(sdb, "c")
    store.create_attribute("string", sdb, "c", "a", size=10, required=False)
    store.create(sdb, "c", "old", {"a": "x"})
    store.create_attribute("integer", sdb, "c", "n", required=True)
    assert store.get(sdb, "c", "old").data["n"] is None
    with pytest.raises(AppwriteException):
        store.update(sdb, "c", "old", data={"a": "y"})
    assert store.update(sdb, "c", "old", data={"a": "y", "n": 1}).data["n"] == 1
