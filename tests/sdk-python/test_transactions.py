"""Transactions with the Python SDK, through both database services: create/get/list/delete,
staging through `transactionId` on every write route and through `…/operations` with every
action, reads that see staged changes, all-or-nothing commit, rollback, conflicts with later
writes, the 100-operation limit, and a concurrent money-transfer run that keeps its invariants."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from appwrite.exception import AppwriteException
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role

from conftest import error_of

NOT_PENDING = "Invalid or non\u2011pending transaction"


@pytest.fixture
def acc(store, sdb):
    """A collection `acc` with `name` and a non-negative integer `bal`, holding a1=100, a2=50."""
    store.create_collection(sdb, "acc", name="acc", permissions=[Permission.read(Role.any())])
    store.create_attribute("string", sdb, "acc", "name", size=64, required=False)
    store.create_attribute("integer", sdb, "acc", "bal", required=False, min=0)
    store.create(sdb, "acc", "a1", {"name": "one", "bal": 100})
    store.create(sdb, "acc", "a2", {"name": "two", "bal": 50})
    return sdb


def balances(store, db):
    return {d.id: d.data["bal"] for d in store.items(store.list(db, "acc", queries=[Query.limit(100)]))}


def parse(ts):
    return datetime.fromisoformat(ts)


def test_create_get_list_delete(store):
    t = store.create_transaction()
    assert (t.status, t.operations) == ("pending", 0)
    ttl = parse(t.expiresat) - parse(t.createdat)
    assert timedelta(seconds=299) <= ttl <= timedelta(seconds=301)
    short = store.create_transaction(ttl=60)
    assert timedelta(seconds=59) <= parse(short.expiresat) - parse(short.createdat) <= timedelta(seconds=61)
    assert store.get_transaction(t.id).id == t.id
    for bad in (59, 3601):
        with pytest.raises(AppwriteException) as e:
            store.create_transaction(ttl=bad)
        assert error_of(e) == (400, "general_argument_invalid", "Invalid `ttl` param: Value must be a valid range between 60 and 3,600")
    pending = store.list_transactions(queries=[Query.equal("status", ["pending"])])
    assert {t.id, short.id} <= {x.id for x in pending.transactions}
    with pytest.raises(AppwriteException) as e:
        store.list_transactions(queries=[Query.equal("operations", [0])])
    assert error_of(e)[:2] == (400, "general_argument_invalid")
    assert store.delete_transaction(short.id) == b""
    with pytest.raises(AppwriteException) as e:
        store.get_transaction(short.id)
    assert error_of(e) == (404, "transaction_not_found", f"Transaction with the requested ID '{short.id}' could not be found.")
    with pytest.raises(AppwriteException) as e:
        store.update_transaction("missing", commit=True)
    assert error_of(e)[:2] == (404, "transaction_not_found")


def test_commit_or_rollback_exactly_one(store):
    t = store.create_transaction()
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t.id)
    assert error_of(e) == (400, "general_bad_request", "Either commit or rollback must be true")
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t.id, commit=True, rollback=True)
    assert error_of(e) == (400, "general_bad_request", "Cannot commit and rollback at the same time")
    assert store.update_transaction(t.id, commit=True).status == "committed"
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t.id, rollback=True)
    assert error_of(e) == (400, "transaction_not_ready", "The transaction is not ready yet. Please try again later.")


def test_every_write_route_stages_and_commit_applies(store, acc):
    db = acc
    t = store.create_transaction()
    tid = t.id
    made = store.create(db, "acc", "a3", {"name": "three", "bal": 7}, transaction_id=tid)
    assert (made.id, made.data["bal"], made.databaseid) == ("a3", 7, db)
    assert made.createdat == "" and made.sequence == ""
    up = store.update(db, "acc", "a1", data={"name": "uno"}, transaction_id=tid)
    assert (up.data["name"], up.data["bal"]) == ("uno", 100)
    ups = store.upsert(db, "acc", "a4", data={"name": "four", "bal": 4}, transaction_id=tid)
    assert ups.data["bal"] == 4
    inc = store.increment(db, "acc", "a2", "bal", value=5, transaction_id=tid)
    assert inc.data == {"bal": 5}
    store.decrement(db, "acc", "a1", "bal", value=10, transaction_id=tid)
    assert store.delete(db, "acc", "a4", transaction_id=tid) == b""
    bulk = store.create_many(db, "acc", [{"$id": "b1", "bal": 1}, {"$id": "b2", "bal": 2}], transaction_id=tid)
    assert (bulk.total, store.items(bulk)) == (2, [])
    assert store.update_many(db, "acc", data={"name": "bulk"}, queries=[Query.less_than("bal", 3)], transaction_id=tid).total == 0
    assert store.upsert_many(db, "acc", [{"$id": "b2", "bal": 22}, {"$id": "b3", "bal": 3}], transaction_id=tid).total == 2
    assert store.delete_many(db, "acc", queries=[Query.equal("$id", ["b3"])], transaction_id=tid).total == 0
    assert store.get_transaction(tid).operations == 10
    # nothing is visible outside the transaction yet
    assert balances(store, db) == {"a1": 100, "a2": 50}
    # reads with the transaction see the staged state
    inside = {d.id: d.data["bal"] for d in store.items(store.list(db, "acc", transaction_id=tid))}
    assert inside == {"a1": 90, "a2": 55, "a3": 7, "b1": 1, "b2": 22}
    assert store.get(db, "acc", "b1", transaction_id=tid).data["name"] == "bulk"
    with pytest.raises(AppwriteException) as e:
        store.get(db, "acc", "a4", transaction_id=tid)
    assert error_of(e)[:2] == (404, store.error("document_not_found"))
    done = store.update_transaction(tid, commit=True)
    assert (done.status, done.operations) == ("committed", 10)
    assert balances(store, db) == inside
    assert store.get(db, "acc", "a1").data["name"] == "uno"
    # a settled transaction is just a plain read
    assert store.get(db, "acc", "a1", transaction_id=tid).data["bal"] == 90


def test_operations_endpoint_with_every_action(store, acc):
    db = acc
    t = store.create_transaction()
    ops = [
        store.op("create", db, "acc", "n1", {"name": "new", "bal": 10}),
        store.op("update", db, "acc", "n1", {"bal": 11}),
        store.op("increment", db, "acc", "n1", {store.attr_word: "bal", "value": 4}),
        store.op("decrement", db, "acc", "a1", {store.attr_word: "bal", "value": 30, "min": 0}),
        store.op("upsert", db, "acc", "a2", {"name": "two", "bal": 60}),
        store.op("bulkCreate", db, "acc", data=[{"$id": "m1", "bal": 1}, {"$id": "m2", "bal": 2}]),
        store.op("bulkUpdate", db, "acc", data={"queries": [Query.less_than("bal", 3)], "data": {"name": "small"}}),
        store.op("bulkUpsert", db, "acc", data=[{"$id": "m2", "bal": 20}]),
        store.op("bulkDelete", db, "acc", data={"queries": [Query.equal("$id", ["m1"])]}),
        store.op("delete", db, "acc", "n1"),
    ]
    staged = store.create_operations(t.id, ops)
    assert (staged.status, staged.operations) == ("pending", 10)
    assert store.update_transaction(t.id, commit=True).status == "committed"
    assert balances(store, db) == {"a1": 70, "a2": 60, "m2": 20}
    assert store.get(db, "acc", "m2").data["name"] == "small"


def test_operations_validation(store, acc, api):
    db = acc
    t = store.create_transaction()
    path = f"{store.api_base}/transactions/{t.id}/operations"
    coll, doc = ("collectionId", "documentId") if store.legacy else ("tableId", "rowId")
    cases = [
        ({"operations": []}, "general_bad_request", "Operations array cannot be empty"),
        ({"operations": [{"action": "create", coll: "acc"}]}, "general_argument_invalid", "Invalid `operations` param: Value must a valid array and Missing required key: databaseId"),
        ({"operations": [{"action": "create", "databaseId": "", coll: "acc"}]}, "general_argument_invalid", "Invalid `operations` param: Value must a valid array and Key 'databaseId' must be a non\u2011empty string"),
        ({"operations": [{"action": "explode", "databaseId": db, coll: "acc"}]}, "general_argument_invalid", "Invalid `operations` param: Value must a valid array and Key 'action' must be one of: create, update, upsert, delete, increment, decrement, bulkCreate, bulkUpdate, bulkUpsert, bulkDelete"),
        ({"operations": [{"action": "update", "databaseId": db, coll: "acc", "data": {}}]}, "general_argument_invalid", f"Invalid `operations` param: Value must a valid array and Key '{doc}' is required for action 'update'"),
        ({"operations": [{"action": "bulkDelete", "databaseId": db, coll: "acc", "data": {}}]}, "general_argument_invalid", "Invalid `operations` param: Value must a valid array and Key 'queries' is required in data for bulkDelete"),
        ({"operations": [{"action": "increment", "databaseId": db, coll: "acc", doc: "a1", "data": {"value": 1}}]}, "general_argument_invalid", f"Invalid `operations` param: Value must a valid array and Key '{store.attr_word}' is required in data for increment"),
        ({"operations": [{"action": "update", "databaseId": db, coll: "acc", doc: "ghost", "data": {"bal": 1}}]}, "document_not_found", "Document with the requested ID 'ghost' could not be found."),
        ({"operations": [{"action": "create", "databaseId": "nodb", coll: "acc", doc: "x", "data": {}}]}, "database_not_found", "Database with the requested ID 'nodb' could not be found."),
        ({"operations": [{"action": "create", "databaseId": db, coll: "nocoll", doc: "x", "data": {}}]}, "collection_not_found", "Collection with the requested ID 'nocoll' could not be found."),
    ]
    for body, ty, message in cases:
        r = api.call("POST", path, json=body)
        assert (r.json()["type"], r.json()["message"]) == (ty, message), body
    assert store.get_transaction(t.id).operations == 0
    # a create earlier in the same batch makes a later update valid
    ok = api.call("POST", path, json={"operations": [
        {"action": "create", "databaseId": db, coll: "acc", doc: "x1", "data": {"bal": 1}},
        {"action": "update", "databaseId": db, coll: "acc", doc: "x1", "data": {"bal": 2}},
    ]})
    assert ok.status_code == 201 and ok.json()["operations"] == 2


def test_rollback_discards_and_settled_transactions_refuse_work(store, acc):
    db = acc
    t = store.create_transaction()
    store.update(db, "acc", "a1", data={"bal": 1}, transaction_id=t.id)
    assert store.update_transaction(t.id, rollback=True).status == "failed"
    assert balances(store, db) == {"a1": 100, "a2": 50}
    with pytest.raises(AppwriteException) as e:
        store.update(db, "acc", "a1", data={"bal": 2}, transaction_id=t.id)
    assert error_of(e)[:2] == (400, "transaction_not_ready")
    with pytest.raises(AppwriteException) as e:
        store.update_many(db, "acc", data={"bal": 2}, transaction_id=t.id)
    assert error_of(e) == (400, "general_bad_request", NOT_PENDING)
    with pytest.raises(AppwriteException) as e:
        store.increment(db, "acc", "a1", "bal", transaction_id=t.id)
    assert error_of(e) == (400, "general_bad_request", NOT_PENDING)
    with pytest.raises(AppwriteException) as e:
        store.create_operations(t.id, [store.op("delete", db, "acc", "a1")])
    assert error_of(e) == (400, "general_bad_request", NOT_PENDING)
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t.id, commit=True)
    assert error_of(e)[:2] == (400, "transaction_not_ready")
    with pytest.raises(AppwriteException) as e:
        store.update(db, "acc", "a1", data={"bal": 2}, transaction_id="nosuchtxn")
    assert error_of(e)[:2] == (404, "transaction_not_found")
    with pytest.raises(AppwriteException) as e:
        store.delete_many(db, "acc", transaction_id="nosuchtxn")
    assert error_of(e) == (400, "general_bad_request", NOT_PENDING)


def test_commit_is_all_or_nothing(store, acc):
    db = acc
    t = store.create_transaction()
    store.create(db, "acc", "ok1", {"bal": 1}, transaction_id=t.id)
    store.update(db, "acc", "a1", data={"bal": 0}, transaction_id=t.id)
    store.create(db, "acc", "bad", {"bal": -5}, transaction_id=t.id)  # below min: fails at commit
    store.create(db, "acc", "ok2", {"bal": 2}, transaction_id=t.id)
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t.id, commit=True)
    code, ty, message = error_of(e)
    assert (code, ty) == (400, "document_invalid_structure")
    assert message.startswith("Invalid document structure: Attribute \"bal\" has invalid format.")
    assert store.get_transaction(t.id).status == "failed"
    assert balances(store, db) == {"a1": 100, "a2": 50}
    # a duplicate ID at commit is a conflict
    t = store.create_transaction()
    store.create(db, "acc", "a1", {"bal": 3}, transaction_id=t.id)
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t.id, commit=True)
    assert error_of(e)[:2] == (409, "transaction_conflict")


def test_writes_after_staging_are_conflicts(store, acc):
    db = acc
    t1, t2 = store.create_transaction(), store.create_transaction()
    store.update(db, "acc", "a1", data={"bal": 200}, transaction_id=t1.id)
    store.update(db, "acc", "a1", data={"bal": 300}, transaction_id=t2.id)
    assert store.update_transaction(t1.id, commit=True).status == "committed"
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t2.id, commit=True)
    assert error_of(e) == (409, "transaction_conflict", "The transaction has a conflict. Please resolve the conflict and try again.")
    assert store.get_transaction(t2.id).status == "failed"
    assert balances(store, db)["a1"] == 200
    # a plain write after staging conflicts too; a delete makes the document missing
    t3 = store.create_transaction()
    store.update(db, "acc", "a2", data={"bal": 1}, transaction_id=t3.id)
    store.update(db, "acc", "a2", data={"name": "touched"})
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t3.id, commit=True)
    assert error_of(e)[:2] == (409, "transaction_conflict")
    t4 = store.create_transaction()
    store.update(db, "acc", "a2", data={"bal": 1}, transaction_id=t4.id)
    store.delete(db, "acc", "a2")
    with pytest.raises(AppwriteException) as e:
        store.update_transaction(t4.id, commit=True)
    assert error_of(e) == (404, "document_not_found", "Document with the requested ID 'a2' could not be found.")
    # increments commute: both transactions commit
    t5, t6 = store.create_transaction(), store.create_transaction()
    store.increment(db, "acc", "a1", "bal", value=10, transaction_id=t5.id)
    store.increment(db, "acc", "a1", "bal", value=5, transaction_id=t6.id)
    store.update_transaction(t5.id, commit=True)
    store.update_transaction(t6.id, commit=True)
    assert balances(store, db)["a1"] == 215


def test_operation_limit(store, acc):
    db = acc
    t = store.create_transaction()
    batch = [store.op("create", db, "acc", f"x{i}", {"bal": i}) for i in range(60)]
    assert store.create_operations(t.id, batch).operations == 60
    with pytest.raises(AppwriteException) as e:
        store.create_operations(t.id, [store.op("create", db, "acc", f"y{i}", {"bal": i}) for i in range(41)])
    assert error_of(e) == (400, "transaction_limit_exceeded", "Transaction already has 60 operations, adding 41 would exceed the maximum of 100")
    assert store.create_operations(t.id, [store.op("create", db, "acc", f"y{i}", {"bal": i}) for i in range(40)]).operations == 100
    with pytest.raises(AppwriteException) as e:
        store.create(db, "acc", "z", {"bal": 1}, transaction_id=t.id)
    assert error_of(e) == (400, "transaction_limit_exceeded", "Transaction already has 100 operations, adding 1 would exceed the maximum of 100")
    assert store.update_transaction(t.id, commit=True).operations == 100
    assert store.list(db, "acc").total == 102


def test_staging_checks_documents_and_visibility(store, acc, emulator):
    from stores import Store

    db = acc
    t = store.create_transaction()
    with pytest.raises(AppwriteException) as e:
        store.update(db, "acc", "ghost", data={"bal": 1}, transaction_id=t.id)
    assert error_of(e)[:2] == (404, store.error("document_not_found"))
    with pytest.raises(AppwriteException) as e:
        store.delete(db, "acc", "ghost", transaction_id=t.id)
    assert error_of(e)[:2] == (404, store.error("document_not_found"))
    # a document deleted earlier in the transaction is gone for later operations
    store.delete(db, "acc", "a2", transaction_id=t.id)
    with pytest.raises(AppwriteException) as e:
        store.update(db, "acc", "a2", data={"bal": 1}, transaction_id=t.id)
    assert error_of(e)[:2] == (404, store.error("document_not_found"))
    assert store.get_transaction(t.id).operations == 1
    # A guest's transaction carries no permissions, so (as in 1.9.6) not even the guest sees it.
    guest = Store(store.kind, emulator.client(key=False))
    gt = guest.create_transaction()
    with pytest.raises(AppwriteException) as e:
        guest.create_operations(gt.id, [store.op("bulkDelete", db, "acc", data={"queries": []})])
    assert error_of(e)[:2] == (404, "transaction_not_found")
    assert store.get_transaction(gt.id).status == "pending"


def test_concurrent_transfers_keep_the_books_balanced(store, sdb, emulator):
    """50 clients, each moving an amount between two of 10 accounts in its own transaction;
    a conflict (someone wrote after we staged) is retried from scratch."""
    from stores import Store

    store.create_collection(sdb, "bank", name="bank", permissions=[Permission.read(Role.any())])
    store.create_attribute("integer", sdb, "bank", "bal", required=True, min=0)
    for i in range(10):
        store.create(sdb, "bank", f"acct{i}", {"bal": 100})
    conflicts = []
    lock = threading.Lock()

    def transfer(n):
        s = Store(store.kind, emulator.client())
        rng = random.Random(n)
        src, dst = rng.sample(range(10), 2)
        want = rng.randint(1, 60)
        for _ in range(200):
            t = s.create_transaction()
            a = s.get(sdb, "bank", f"acct{src}").data["bal"]
            b = s.get(sdb, "bank", f"acct{dst}").data["bal"]
            amount = min(want, a)
            s.update(sdb, "bank", f"acct{src}", data={"bal": a - amount}, transaction_id=t.id)
            s.update(sdb, "bank", f"acct{dst}", data={"bal": b + amount}, transaction_id=t.id)
            # what we read must still hold once staged; a later write is caught by the commit
            if s.get(sdb, "bank", f"acct{src}").data["bal"] != a or s.get(sdb, "bank", f"acct{dst}").data["bal"] != b:
                s.update_transaction(t.id, rollback=True)
                continue
            try:
                s.update_transaction(t.id, commit=True)
                return amount
            except AppwriteException as e:
                assert (e.code, e.type) == (409, "transaction_conflict"), e.message
                with lock:
                    conflicts.append(n)
        raise AssertionError("transfer never committed")

    with ThreadPoolExecutor(max_workers=50) as pool:
        moved = list(pool.map(transfer, range(50)))
    final = [d.data["bal"] for d in store.items(store.list(sdb, "bank", queries=[Query.limit(100)]))]
    assert len(moved) == 50
    assert sum(final) == 1000
    assert min(final) >= 0
    committed = store.list_transactions(queries=[Query.equal("status", ["committed"]), Query.limit(5000)]).total
    assert committed >= 50
