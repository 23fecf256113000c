"""Bulk create/update/upsert/delete as 1.9.6 answers them: limits, totals beyond the 100 documents
a response carries, status codes, who may call them, and each call being all or nothing."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role

from conftest import error_of


@pytest.fixture
def nums(store, sdb):
    store.create_collection(sdb, "n", name="n", permissions=[Permission.read(Role.any()), Permission.create(Role.any()), Permission.update(Role.any())])
    store.create_attribute("integer", sdb, "n", "i", required=True, min=0, max=1000)
    store.create_attribute("string", sdb, "n", "tag", size=16, required=False)
    return sdb


def test_totals_count_everything_while_lists_stop_at_100(store, nums):
    db = nums
    for start in (0, 100):
        made = store.create_many(db, "n", [{"$id": f"d{k}", "i": k} for k in range(start, start + 100)])
        assert made.total == 100 and len(store.items(made)) == 100
    up = store.update_many(db, "n", data={"tag": "all"}, queries=[Query.greater_than_equal("i", 20)])
    assert up.total == 180 and len(store.items(up)) == 100
    assert store.list(db, "n", queries=[Query.equal("tag", ["all"])]).total == 180
    gone = store.delete_many(db, "n", queries=[Query.less_than("i", 150)])
    assert gone.total == 150 and len(store.items(gone)) == 100
    assert store.list(db, "n").total == 50


def test_each_bulk_call_is_atomic(store, nums):
    db = nums
    store.create_many(db, "n", [{"$id": f"d{k}", "i": k} for k in range(5)])
    with pytest.raises(AppwriteException) as e:
        store.update_many(db, "n", data={"i": 5000})
    assert error_of(e)[:2] == (400, store.error("document_invalid_structure"))
    with pytest.raises(AppwriteException) as e:
        store.upsert_many(db, "n", [{"$id": "d0", "i": 9}, {"$id": "d9", "i": -1}])
    assert error_of(e)[:2] == (400, store.error("document_invalid_structure"))
    with pytest.raises(AppwriteException) as e:
        store.create_many(db, "n", [{"$id": "new", "i": 1}, {"$id": "d1", "i": 1}])
    assert error_of(e)[:2] == (409, store.error("document_already_exists"))
    assert sorted((d.id, d.data["i"]) for d in store.items(store.list(db, "n"))) == [(f"d{k}", k) for k in range(5)]


def test_upsert_answers_200_with_what_changed(store, nums, api):
    db = nums
    store.create_many(db, "n", [{"$id": "a", "i": 1}, {"$id": "b", "i": 2}])
    r = api.call("PUT", store.path(db, "n", store.docs_key), json={store.docs_key: [{"$id": "a", "i": 1}, {"$id": "b", "i": 20}, {"$id": "c", "i": 3}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2, "an identical document is not rewritten"
    assert sorted(d["$id"] for d in body[store.docs_key]) == ["b", "c"]
    too_many = [{"$id": f"x{k}", "i": 1} for k in range(101)]
    with pytest.raises(AppwriteException) as e:
        store.upsert_many(db, "n", too_many)
    assert error_of(e) == (400, "general_argument_invalid", f"Invalid `{store.docs_key}` param: Value must a valid array no longer than 100 items and Value must be a valid JSON object")


def test_who_may_call_bulk(store, nums, emulator):
    from stores import Store

    db = nums
    guest = Store(store.kind, emulator.client(key=False))
    with pytest.raises(AppwriteException) as e:
        guest.create_many(db, "n", [{"i": 1}])
    assert error_of(e)[:2] == (401, "general_unauthorized_scope")
    # bulk upsert and update are open to any caller the documents' permissions allow
    assert guest.upsert_many(db, "n", [{"$id": "g1", "i": 1, "$permissions": [Permission.read(Role.any())]}]).total == 1
    assert guest.update_many(db, "n", data={"tag": "g"}).total == 1
    assert store.get(db, "n", "g1").data["tag"] == "g"


def test_bulk_parameter_errors(store, nums):
    db = nums
    with pytest.raises(AppwriteException) as e:
        store.update_many(db, "n", data={})
    assert error_of(e)[:2] == (400, store.error("document_missing_payload"))
    with pytest.raises(AppwriteException) as e:
        store.update_many(db, "n", data={"$permissions": ["read(\"nobody\")"]})
    assert error_of(e) == (400, "general_bad_request", 'Role "nobody" is not allowed. Must be one of: any, guests, users, user, team, member, label.')
    with pytest.raises(AppwriteException) as e:
        store.delete_many(db, "n", queries=[Query.equal("nope", [1])])
    assert error_of(e) == (400, "general_query_invalid", "Invalid query: Attribute not found in schema: nope")
    with pytest.raises(AppwriteException) as e:
        store.create_many(db, "n", [{"$id": "bad id", "i": 1}])
    assert error_of(e)[:2] == (400, "general_bad_request")
