"""The permission matrix: two users (alice, labelled `vip`, and bob), a guest and the API key,
over collections (both database APIs) and buckets, with document/file security off and on. Every
cell is a real SDK call by that caller; the tables say what Appwrite answers (REFERENCE §4)."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.input_file import InputFile
from appwrite.permission import Permission
from appwrite.role import Role
from appwrite.services.storage import Storage

from actors import guest_actor, key_actor, png, unique, user_actor
from stores import Store

ACTORS = ("key", "alice", "bob", "guest")
SUCCESS = {"create": 201, "delete": 204}


@pytest.fixture(scope="module")
def actors(emulator):
    return {
        "key": key_actor(emulator),
        "alice": user_actor(emulator, "alice", labels=["vip"]),
        "bob": user_actor(emulator, "bob"),
        "guest": guest_actor(emulator),
    }


def outcome(action, call):
    """The HTTP status a call ends with (success codes follow the action)."""
    try:
        call()
    except AppwriteException as e:
        return e.code
    return SUCCESS.get(action, 200)


def check(table, run):
    """Runs every cell of `table` ({(action, target): {actor: status}}) and reports all mismatches."""
    wrong = []
    for (action, target), row in table.items():
        for actor in ACTORS:
            if actor not in row:
                continue
            got = run(action, target, actor)
            if got != row[actor]:
                wrong.append(f"{actor} {action} {target}: expected {row[actor]}, got {got}")
    assert not wrong, "\n".join(wrong)


def perms(template, actors):
    return [p.replace("ALICE", actors["alice"].user_id).replace("BOB", actors["bob"].user_id) for p in template]


# --- collections and documents ------------------------------------------------------------------


@pytest.fixture(params=["legacy", "tables"])
def kind(request):
    return request.param


def stores(kind, actors):
    return {name: Store(kind, a.client) for name, a in actors.items()}


def doc_runner(s, db, cid, payload_id):
    counter = iter(range(10_000))

    def run(action, target, actor):
        st = s[actor]
        if action == "list":
            return outcome(action, lambda: st.list(db, cid))
        if action == "get":
            return outcome(action, lambda: st.get(db, cid, target))
        if action == "create":
            return outcome(action, lambda: st.create(db, cid, f"{actor}{payload_id}{next(counter)}", {"title": "t"}))
        if action == "update":
            return outcome(action, lambda: st.update(db, cid, target, data={"title": f"by {actor}"}))
        if action == "delete":
            return outcome(action, lambda: st.delete(db, cid, f"{target}-{actor}"))
        raise AssertionError(action)

    return run


def make_collection(s, db, cid, permissions, security):
    s["key"].create_collection(db, cid, permissions=permissions, security=security)
    s["key"].create_attribute("string", db, cid, "title", size=64, required=False)


def visible(st, db, cid):
    return {d.id for d in st.items(st.list(db, cid))}


def test_collection_security_off(kind, actors):
    """Only the collection's permissions count: read("users"), create("users"), update/delete(alice)."""
    s = stores(kind, actors)
    db = unique("db")
    s["key"].create_database(db)
    cperms = perms(['read("users")', 'create("users")', 'update("user:ALICE")', 'delete("user:ALICE")'], actors)
    make_collection(s, db, "c", cperms, False)
    s["key"].create(db, "c", "d", {"title": "by key"}, permissions=[])
    for a in ACTORS:
        s["key"].create(db, "c", f"d-{a}", {"title": "to delete"}, permissions=[])
    table = {
        ("list", "c"): {"key": 200, "alice": 200, "bob": 200, "guest": 401},
        ("get", "d"): {"key": 200, "alice": 200, "bob": 200, "guest": 404},
        ("get", "missing"): {"key": 404, "alice": 404, "bob": 404, "guest": 404},
        ("create", "c"): {"key": 201, "alice": 201, "bob": 201, "guest": 401},
        ("update", "d"): {"key": 200, "alice": 200, "bob": 401, "guest": 401},
        ("delete", "d"): {"key": 204, "alice": 204, "bob": 401, "guest": 401},
    }
    check(table, doc_runner(s, db, "c", "x"))
    # document permissions are ignored while document security is off
    s["key"].create(db, "c", "only-bob", {"title": "t"}, permissions=perms(['read("user:BOB")'], actors))
    assert "only-bob" in visible(s["alice"], db, "c")
    s["key"].delete_database(db)


def test_collection_security_on(kind, actors):
    """Collection grants only create("users"); each document's own permissions decide the rest."""
    s = stores(kind, actors)
    db = unique("db")
    s["key"].create_database(db)
    make_collection(s, db, "c", ['create("users")'], True)
    mine = s["alice"].create(db, "c", "d_alice", {"title": "alice's"})
    assert mine.permissions == perms(['read("user:ALICE")', 'update("user:ALICE")', 'delete("user:ALICE")'], actors)
    shared = perms(['read("user:BOB")', 'update("user:BOB")', 'delete("user:BOB")'], actors)
    s["key"].create(db, "c", "d_shared", {"title": "for bob"}, permissions=shared)
    for a in ACTORS:
        s["alice"].create(db, "c", f"d_alice-{a}", {"title": "to delete"})
        s["key"].create(db, "c", f"d_shared-{a}", {"title": "to delete"}, permissions=shared)
    assert visible(s["key"], db, "c") >= {"d_alice", "d_shared"}
    assert visible(s["alice"], db, "c") == {"d_alice"} | {f"d_alice-{a}" for a in ACTORS}
    assert visible(s["bob"], db, "c") == {"d_shared"} | {f"d_shared-{a}" for a in ACTORS}
    assert visible(s["guest"], db, "c") == set(), "a guest lists nothing, without an error"
    assert s["alice"].list(db, "c").total == 5
    table = {
        ("list", "c"): {"key": 200, "alice": 200, "bob": 200, "guest": 200},
        ("get", "d_alice"): {"key": 200, "alice": 200, "bob": 404, "guest": 404},
        ("get", "d_shared"): {"key": 200, "alice": 404, "bob": 200, "guest": 404},
        ("create", "c"): {"key": 201, "alice": 201, "bob": 201, "guest": 401},
        ("update", "d_alice"): {"key": 200, "alice": 200, "bob": 401, "guest": 401},
        ("update", "d_shared"): {"key": 200, "alice": 401, "bob": 200, "guest": 401},
        ("delete", "d_alice"): {"key": 204, "alice": 204, "bob": 401, "guest": 401},
        ("delete", "d_shared"): {"key": 204, "alice": 401, "bob": 204, "guest": 401},
    }
    check(table, doc_runner(s, db, "c", "y"))
    s["key"].delete_database(db)


ROLE_DOCS = {
    "any": 'read("any")',
    "guests": 'read("guests")',
    "users": 'read("users")',
    "unverified": 'read("users/unverified")',
    "alice": 'read("user:ALICE")',
    "vip": 'read("label:vip")',
}
SEES = {
    "key": set(ROLE_DOCS),
    "alice": {"any", "users", "unverified", "alice", "vip"},
    "bob": {"any", "users", "unverified"},
    "guest": {"any", "guests"},
}


def test_document_roles(kind, actors):
    s = stores(kind, actors)
    db = unique("db")
    s["key"].create_database(db)
    make_collection(s, db, "c", [], True)
    for doc, perm in ROLE_DOCS.items():
        s["key"].create(db, "c", doc, {"title": doc}, permissions=perms([perm], actors))
    for actor, sees in SEES.items():
        assert visible(s[actor], db, "c") == sees, actor
        for doc in ROLE_DOCS:
            assert outcome("get", lambda: s[actor].get(db, "c", doc)) == (200 if doc in sees else 404), (actor, doc)
    s["key"].delete_database(db)


GRANTS = [
    # (actor, permissions asked for, allowed)
    ("alice", ['read("any")', 'read("users")', 'update("user:ALICE")', 'read("label:vip")', 'read("users/unverified")'], True),
    ("alice", ['read("user:BOB")'], False),
    ("alice", ['read("guests")'], False),
    ("alice", ['read("label:other")'], False),
    ("alice", ['read("users/verified")'], False),
    ("bob", ['read("label:vip")'], False),
    ("guest", ['read("any")', 'read("guests")'], True),
    ("guest", ['read("users")'], False),
    ("key", ['read("user:BOB")', 'read("label:nobody")', 'read("team:t1/owner")'], True),
]


def test_document_grants_and_defaults(kind, actors):
    s = stores(kind, actors)
    db = unique("db")
    s["key"].create_database(db)
    make_collection(s, db, "c", ['create("any")', 'update("any")'], True)
    for i, (actor, asked, allowed) in enumerate(GRANTS):
        asked = perms(asked, actors)
        try:
            made = s[actor].create(db, "c", f"g{i}", {"title": "t"}, permissions=asked)
            assert allowed and made.permissions == asked, (actor, asked)
        except AppwriteException as e:
            assert not allowed, (actor, asked, e.message)
            assert (e.code, e.type) == (401, "user_unauthorized")
            assert e.message.startswith("Permissions must be one of: (any, "), e.message
    with pytest.raises(AppwriteException) as e:
        s["alice"].create(db, "c", "g-bob", {"title": "t"}, permissions=perms(['read("user:BOB")'], actors))
    alice = actors["alice"].user_id
    assert e.value.message == f"Permissions must be one of: (any, user:{alice}, users, user:{alice}/unverified, users/unverified, label:vip)"
    # defaults: a user gets full rights on what it creates, a guest or the key none
    assert s["guest"].create(db, "c", "by-guest", {"title": "t"}).permissions == []
    assert s["key"].create(db, "c", "by-key", {"title": "t"}).permissions == []
    # updating permissions follows the same rule
    with pytest.raises(AppwriteException) as e:
        s["alice"].update(db, "c", "by-key", permissions=perms(['read("user:BOB")'], actors))
    assert e.value.code == 401
    assert s["alice"].update(db, "c", "by-key", permissions=perms(['read("user:ALICE")'], actors)).permissions == perms(['read("user:ALICE")'], actors)
    s["key"].delete_database(db)


def test_disabled_collection_is_missing_for_non_keys(kind, actors):
    s = stores(kind, actors)
    db = unique("db")
    s["key"].create_database(db)
    make_collection(s, db, "c", ['read("any")', 'create("any")'], False)
    s["key"].update_collection(db, "c", name="C", enabled=False, permissions=['read("any")', 'create("any")'], security=False)
    for actor in ("alice", "guest"):
        with pytest.raises(AppwriteException) as e:
            s[actor].list(db, "c")
        assert (e.value.code, e.value.type) == (404, s[actor].error("collection_not_found"))
    assert s["key"].list(db, "c").total == 0
    s["key"].delete_database(db)


# --- buckets and files --------------------------------------------------------------------------


def file_runner(actors, bucket_id):
    counter = iter(range(10_000))

    def run(action, target, actor):
        st = Storage(actors[actor].client)
        calls = {
            "list": lambda: st.list_files(bucket_id=bucket_id),
            "get": lambda: st.get_file(bucket_id=bucket_id, file_id=target),
            "download": lambda: st.get_file_download(bucket_id=bucket_id, file_id=target),
            "view": lambda: st.get_file_view(bucket_id=bucket_id, file_id=target),
            "preview": lambda: st.get_file_preview(bucket_id=bucket_id, file_id=target, width=2),
            "create": lambda: st.create_file(bucket_id=bucket_id, file_id=f"n{actor}{next(counter)}", file=InputFile.from_bytes(png(4, 4), "p.png")),
            "update": lambda: st.update_file(bucket_id=bucket_id, file_id=target, name=f"by-{actor}.png"),
            "delete": lambda: st.delete_file(bucket_id=bucket_id, file_id=f"{target}-{actor}"),
        }
        return outcome(action, calls[action])

    return run


def make_bucket(actors, permissions, file_security):
    bucket_id = unique("b")
    Storage(actors["key"].client).create_bucket(bucket_id=bucket_id, name="M", permissions=permissions, file_security=file_security)
    return bucket_id


def upload(actor, bucket_id, file_id, permissions=None):
    return Storage(actor.client).create_file(bucket_id=bucket_id, file_id=file_id, file=InputFile.from_bytes(png(4, 4), "p.png"), permissions=permissions)


def file_ids(actor, bucket_id):
    return {f.id for f in Storage(actor.client).list_files(bucket_id=bucket_id).files}


def test_bucket_file_security_off(actors):
    """Only the bucket's permissions count; without them even a read is 401, not 404."""
    b = make_bucket(actors, perms(['read("users")', 'create("users")', 'update("user:ALICE")', 'delete("user:ALICE")'], actors), False)
    upload(actors["key"], b, "f", permissions=[])
    for a in ACTORS:
        upload(actors["key"], b, f"f-{a}", permissions=[])
    row = {"key": 200, "alice": 200, "bob": 200, "guest": 401}
    table = {
        ("list", b): row,
        ("get", "f"): row,
        ("download", "f"): row,
        ("view", "f"): row,
        ("preview", "f"): row,
        ("get", "missing"): {"key": 404, "alice": 404, "bob": 404, "guest": 401},
        ("create", b): {"key": 201, "alice": 201, "bob": 201, "guest": 401},
        ("update", "f"): {"key": 200, "alice": 200, "bob": 401, "guest": 401},
        ("delete", "f"): {"key": 204, "alice": 204, "bob": 401, "guest": 401},
    }
    check(table, file_runner(actors, b))
    upload(actors["key"], b, "only-bob", permissions=perms(['read("user:BOB")'], actors))
    assert "only-bob" in file_ids(actors["alice"], b), "file permissions are ignored while file security is off"
    Storage(actors["key"].client).delete_bucket(bucket_id=b)


def test_bucket_file_security_on(actors):
    b = make_bucket(actors, ['create("users")'], True)
    mine = upload(actors["alice"], b, "f_alice")
    assert mine.permissions == perms(['read("user:ALICE")', 'update("user:ALICE")', 'delete("user:ALICE")'], actors)
    shared = perms(['read("user:BOB")', 'update("user:BOB")', 'delete("user:BOB")'], actors)
    upload(actors["key"], b, "f_shared", permissions=shared)
    for a in ACTORS:
        upload(actors["alice"], b, f"f_alice-{a}")
        upload(actors["key"], b, f"f_shared-{a}", permissions=shared)
    assert file_ids(actors["alice"], b) == {"f_alice"} | {f"f_alice-{a}" for a in ACTORS}
    assert file_ids(actors["bob"], b) == {"f_shared"} | {f"f_shared-{a}" for a in ACTORS}
    assert file_ids(actors["guest"], b) == set()
    assert Storage(actors["bob"].client).list_files(bucket_id=b).total == 5
    alice_reads = {"key": 200, "alice": 200, "bob": 404, "guest": 404}
    table = {
        ("list", b): {"key": 200, "alice": 200, "bob": 200, "guest": 200},
        ("get", "f_alice"): alice_reads,
        ("download", "f_alice"): alice_reads,
        ("view", "f_alice"): alice_reads,
        ("preview", "f_alice"): alice_reads,
        ("get", "f_shared"): {"key": 200, "alice": 404, "bob": 200, "guest": 404},
        ("create", b): {"key": 201, "alice": 201, "bob": 201, "guest": 401},
        ("update", "f_alice"): {"key": 200, "alice": 200, "bob": 401, "guest": 401},
        ("update", "f_shared"): {"key": 200, "alice": 401, "bob": 200, "guest": 401},
        ("delete", "f_alice"): {"key": 204, "alice": 204, "bob": 401, "guest": 401},
        ("delete", "f_shared"): {"key": 204, "alice": 401, "bob": 204, "guest": 401},
    }
    check(table, file_runner(actors, b))
    Storage(actors["key"].client).delete_bucket(bucket_id=b)


def test_file_roles_and_grants(actors):
    b = make_bucket(actors, ['create("any")'], True)
    for name, perm in ROLE_DOCS.items():
        upload(actors["key"], b, name, permissions=perms([perm], actors))
    for actor, sees in SEES.items():
        assert file_ids(actors[actor], b) == sees, actor
        for name in ROLE_DOCS:
            got = outcome("download", lambda: Storage(actors[actor].client).get_file_download(bucket_id=b, file_id=name))
            assert got == (200 if name in sees else 404), (actor, name)
    for i, (actor, asked, allowed) in enumerate(GRANTS):
        asked = perms(asked, actors)
        try:
            made = upload(actors[actor], b, f"g{i}", permissions=asked)
            assert allowed and made.permissions == asked, (actor, asked)
        except AppwriteException as e:
            assert not allowed and (e.code, e.type) == (401, "user_unauthorized"), (actor, asked, e.message)
            assert e.message.startswith("Permissions must be one of: (any, ")
    assert upload(actors["guest"], b, "by-guest").permissions == []
    assert upload(actors["key"], b, "by-key").permissions == []
    with pytest.raises(AppwriteException) as e:
        Storage(actors["alice"].client).update_file(bucket_id=b, file_id="alice", permissions=perms(['read("user:BOB")'], actors))
    assert (e.value.code, e.value.message.startswith("Permissions must be one of:")) == (401, True)
    Storage(actors["key"].client).delete_bucket(bucket_id=b)


def test_unauthorized_messages_follow_utopia(actors):
    b = make_bucket(actors, [], False)
    alice = actors["alice"].user_id
    with pytest.raises(AppwriteException) as e:
        Storage(actors["alice"].client).list_files(bucket_id=b)
    assert (e.value.code, e.value.type, e.value.message) == (401, "user_unauthorized", "No permissions provided for action 'read'")
    Storage(actors["key"].client).update_bucket(bucket_id=b, name="M", permissions=['read("label:staff")'])
    with pytest.raises(AppwriteException) as e:
        Storage(actors["alice"].client).list_files(bucket_id=b)
    roles = f'["any","user:{alice}","users","user:{alice}\\/unverified","users\\/unverified","label:vip"]'
    assert e.value.message == f'Missing "read" permission for role "label:staff". Only "{roles}" scopes are allowed and "["label:staff"]" was given.'
    Storage(actors["key"].client).delete_bucket(bucket_id=b)
