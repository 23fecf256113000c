"""Relationship attributes/columns with the Python SDK, through both database services: the four
types one-way and two-way, nested writes, reading with and without `select`, queries through
relationships, `onDelete` (restrict, setNull, cascade across levels), updates through both path
shapes, deletion of both sides, and every refusal changing nothing."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role

from conftest import error_of


def attr(model):
    return model.to_dict()


def make(store, db, *ids, security=False):
    for cid in ids:
        store.create_collection(db, cid, name=cid, permissions=[Permission.read(Role.any())], security=security)
        store.create_attribute("string", db, cid, "name", size=64, required=False)


def ids(page_or_list, store=None):
    items = store.items(page_or_list) if store else page_or_list
    return sorted(d["$id"] if isinstance(d, dict) else d.id for d in items)


def test_create_all_types_with_defaults_and_both_sides(store, sdb):
    make(store, sdb, "p", "c1", "c2", "c3", "c4")
    one = attr(store.create_relationship(sdb, "p", "c1", "oneToOne"))
    assert (one["key"], one["type"], one["status"]) == ("c1", "relationship", "processing")
    assert (one[store.related_key], one["relationType"], one["twoWay"], one["twoWayKey"], one["onDelete"], one["side"]) == (
        "c1", "oneToOne", False, "p", "restrict", "parent"
    )
    store.create_relationship(sdb, "p", "c2", "oneToMany", two_way=True, key="kids", two_way_key="parent", on_delete="cascade")
    store.create_relationship(sdb, "p", "c3", "manyToOne", two_way=True, key="owner", two_way_key="owned", on_delete="setNull")
    store.create_relationship(sdb, "p", "c4", "manyToMany", two_way=True, key="tags", two_way_key="things")
    page = store.list_attributes(sdb, "p")
    keys = [attr(a)["key"] for a in (page.attributes if store.legacy else page.columns)]
    assert keys == ["name", "c1", "kids", "owner", "tags"]
    assert all(attr(a)["status"] == "available" for a in (page.attributes if store.legacy else page.columns))
    child = attr(store.get_attribute(sdb, "c2", "parent"))
    assert (child[store.related_key], child["relationType"], child["twoWay"], child["twoWayKey"], child["side"], child["onDelete"]) == (
        "p", "oneToMany", True, "kids", "child", "cascade"
    )
    # a one-way relationship adds nothing to the related collection
    page = store.list_attributes(sdb, "c1")
    assert [attr(a)["key"] for a in (page.attributes if store.legacy else page.columns)] == ["name"]


def test_create_refusals_change_nothing(store, sdb):
    make(store, sdb, "p", "c")
    with pytest.raises(AppwriteException) as e:
        store.create_relationship(sdb, "p", "nope", "oneToOne")
    assert error_of(e) == (404, store.error("collection_not_found"), f"{store.coll_word.capitalize()} with the requested ID 'nope' could not be found.")
    with pytest.raises(AppwriteException) as e:
        store.create_relationship(sdb, "p", "c", "oneToSome")
    assert error_of(e) == (400, "general_argument_invalid", "Invalid `type` param: Value must be one of (oneToOne, manyToOne, manyToMany, oneToMany)")
    with pytest.raises(AppwriteException) as e:
        store.create_relationship(sdb, "p", "c", "oneToOne", on_delete="explode")
    assert error_of(e) == (400, "general_argument_invalid", "Invalid `onDelete` param: Value must be one of (cascade, restrict, setNull)")
    with pytest.raises(AppwriteException) as e:
        store.create_relationship(sdb, "p", "c", "oneToOne", key="name")
    assert error_of(e)[:2] == (409, store.error("attribute_already_exists"))
    with pytest.raises(AppwriteException) as e:
        store.create_relationship(sdb, "p", "c", "oneToOne", two_way=True, two_way_key="name")
    assert error_of(e)[:2] == (409, store.error("attribute_already_exists"))
    store.create_relationship(sdb, "p", "c", "manyToMany", key="m1", two_way=True, two_way_key="back1")
    with pytest.raises(AppwriteException) as e:
        store.create_relationship(sdb, "p", "c", "manyToMany", key="m2", two_way=True, two_way_key="back2")
    assert error_of(e) == (409, store.error("attribute_already_exists"), f'Creating more than one "manyToMany" relationship on the same {store.coll_word} is currently not permitted.')
    for cid, expected in [("p", ["name", "m1"]), ("c", ["name", "back1"])]:
        page = store.list_attributes(sdb, cid)
        assert [attr(a)["key"] for a in (page.attributes if store.legacy else page.columns)] == expected


def test_nested_writes_one_to_many(store, sdb):
    make(store, sdb, "authors", "books")
    store.create_relationship(sdb, "authors", "books", "oneToMany", two_way=True, key="books", two_way_key="author")
    perms = [Permission.read(Role.any()), Permission.update(Role.any())]
    a = store.create(sdb, "authors", "a1", {"name": "Ann", "books": [{"$id": "b1", "name": "One"}, {"name": "Two"}]}, permissions=perms)
    # the write answers with the related documents populated, the back reference left out
    assert [b["name"] for b in a.data["books"]] == ["One", "Two"]
    assert all("author" not in b for b in a.data["books"])
    assert a.data["books"][0]["$permissions"] == perms, "nested documents inherit the parent's permissions"
    b2 = a.data["books"][1]["$id"]
    store.create(sdb, "books", "b3", {"name": "Three"})
    # IDs and nested updates; a listed child that is missing is ignored
    a = store.update(sdb, "authors", "a1", data={"books": ["b1", "b3", {"$id": b2, "name": "Two!"}, "ghost"]})
    assert sorted(b["$id"] for b in a.data["books"]) == sorted(["b1", "b3", b2])
    assert store.get(sdb, "books", b2).data["name"] == "Two!"
    # replacing the list unlinks what is left out
    store.update(sdb, "authors", "a1", data={"books": ["b3"]})
    assert store.get(sdb, "books", "b1").data["author"] is None
    assert store.get(sdb, "books", "b3").data["author"] == "a1"
    # the child side is a single value
    store.create(sdb, "authors", "a2", {"name": "Bo"})
    store.update(sdb, "books", "b1", data={"author": "a2"})
    got = store.get(sdb, "authors", "a2", queries=[Query.select(["*", "books.*"])])
    assert [b["$id"] for b in got.data["books"]] == ["b1"]


def test_nested_writes_many_to_many_and_one_to_one(store, sdb):
    make(store, sdb, "posts", "tags", "people", "passports")
    store.create_relationship(sdb, "posts", "tags", "manyToMany", two_way=True, key="tags", two_way_key="posts")
    store.create(sdb, "tags", "t1", {"name": "red"})
    p = store.create(sdb, "posts", "p1", {"name": "x", "tags": ["t1", {"$id": "t2", "name": "blue"}]})
    assert [t["$id"] for t in p.data["tags"]] == ["t1", "t2"]
    store.create(sdb, "posts", "p2", {"name": "y", "tags": ["t2"]})
    t2 = store.get(sdb, "tags", "t2", queries=[Query.select(["*", "posts.*"])])
    assert [x["$id"] for x in t2.data["posts"]] == ["p1", "p2"]
    store.update(sdb, "posts", "p1", data={"tags": ["t2"]})
    t1 = store.get(sdb, "tags", "t1", queries=[Query.select(["*", "posts.*"])])
    assert t1.data["posts"] == []

    store.create_relationship(sdb, "people", "passports", "oneToOne", two_way=True, key="passport", two_way_key="holder")
    store.create(sdb, "people", "u1", {"name": "U", "passport": {"$id": "pp1", "name": "P1"}})
    assert store.get(sdb, "passports", "pp1").data["holder"] == "u1"
    assert store.get(sdb, "people", "u1").data["passport"] == "pp1"
    # a partner that already has one is refused, and nothing changes
    store.create(sdb, "people", "u2", {"name": "V"})
    with pytest.raises(AppwriteException) as e:
        store.update(sdb, "people", "u2", data={"passport": "pp1"})
    assert error_of(e)[:2] == (409, store.error("document_already_exists"))
    assert store.get(sdb, "people", "u2").data["passport"] is None
    # moving to a new partner frees the old one
    store.update(sdb, "people", "u1", data={"passport": {"$id": "pp2", "name": "P2"}})
    assert store.get(sdb, "passports", "pp1").data["holder"] is None
    assert store.get(sdb, "passports", "pp2").data["holder"] == "u1"


def test_relationship_value_errors(store, sdb):
    make(store, sdb, "a", "b")
    store.create_relationship(sdb, "a", "b", "manyToOne", key="one")
    store.create_relationship(sdb, "b", "a", "oneToMany", key="many", two_way=True, two_way_key="back")
    cases = [
        ("a", {"one": ["x", "y"]}, "Invalid relationship value. Must be either a document ID or a document, array given."),
        ("b", {"many": {"name": "n"}}, "Invalid relationship value. Must be either an array of documents or document IDs, document given."),
        ("b", {"many": "x"}, "Invalid relationship value. Must be either an array of documents or document IDs, document ID given."),
        ("a", {"one": {"$id": "bad id!"}}, "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char"),
        ("b", {"many": [1, 2]}, "Relationship value must be an object, document ID string, or associative array"),
    ]
    for cid, data, message in cases:
        with pytest.raises(AppwriteException) as e:
            store.create(sdb, cid, "d", data)
        assert error_of(e) == (400, "relationship_value_invalid", message)
    assert store.list(sdb, "a").total == 0 and store.list(sdb, "b").total == 0


def test_reading_with_and_without_select(store, sdb):
    make(store, sdb, "books", "authors", "shelves")
    store.create_relationship(sdb, "books", "authors", "manyToOne", two_way=True, key="author", two_way_key="books")
    store.create_relationship(sdb, "books", "shelves", "manyToMany", key="shelves")
    store.create(sdb, "books", "b1", {"name": "One", "author": {"$id": "a1", "name": "Ann"}, "shelves": [{"$id": "s1", "name": "Top"}]})
    # no select: the stored side shows the ID, virtual sides are absent
    plain = store.get(sdb, "books", "b1")
    assert plain.data == {"name": "One", "author": "a1"}
    assert "books" not in store.get(sdb, "authors", "a1").data
    # select("*") alone populates nothing
    assert store.get(sdb, "books", "b1", queries=[Query.select(["*"])]).data == {"name": "One", "author": "a1"}
    full = store.get(sdb, "books", "b1", queries=[Query.select(["*", "author.*", "shelves.*"])])
    assert full.data["author"]["name"] == "Ann" and full.data["author"]["$databaseId"] == sdb
    assert full.data["author"][("$collectionId" if store.legacy else "$tableId")] == "authors"
    assert "books" not in full.data["author"], "the back reference is not repeated"
    assert [s["name"] for s in full.data["shelves"]] == ["Top"]
    only = store.get(sdb, "books", "b1", queries=[Query.select(["author.name"])])
    assert set(k for k in only.data) == {"author"}
    assert {k for k in only.data["author"] if not k.startswith("$")} == {"name"}
    listed = store.list(sdb, "authors", queries=[Query.select(["*", "books.*"])])
    assert [b["$id"] for b in store.items(listed)[0].data["books"]] == ["b1"]


def test_population_stops_at_depth_three(store, sdb):
    make(store, sdb, "l0", "l1", "l2", "l3")
    store.create_relationship(sdb, "l0", "l1", "manyToOne", key="next")
    store.create_relationship(sdb, "l1", "l2", "manyToOne", key="next")
    store.create_relationship(sdb, "l2", "l3", "manyToOne", key="next")
    store.create(sdb, "l3", "d3", {"name": "3"})
    store.create(sdb, "l2", "d2", {"name": "2", "next": "d3"})
    store.create(sdb, "l1", "d1", {"name": "1", "next": "d2"})
    made = store.create(sdb, "l0", "d0", {"name": "0", "next": "d1"})
    assert made.data["next"]["next"]["name"] == "2"
    assert "next" not in made.data["next"]["next"], "the third level keeps no relationship keys"
    got = store.get(sdb, "l0", "d0", queries=[Query.select(["*", "next.*", "next.next.*", "next.next.next.*"])])
    assert got.data["next"]["next"]["$id"] == "d2" and "next" not in got.data["next"]["next"]


def test_queries_through_relationships(store, sdb):
    make(store, sdb, "books", "authors")
    store.create_relationship(sdb, "books", "authors", "manyToOne", two_way=True, key="author", two_way_key="books")
    store.create(sdb, "authors", "a1", {"name": "Ann"})
    store.create(sdb, "authors", "a2", {"name": "Bo"})
    for i, a in enumerate(["a1", "a1", "a2"]):
        store.create(sdb, "books", f"b{i}", {"name": f"B{i}", "author": a})
    assert ids(store.list(sdb, "books", queries=[Query.equal("author", ["a1"])]), store) == ["b0", "b1"]
    assert ids(store.list(sdb, "books", queries=[Query.equal("author.name", ["Bo"])]), store) == ["b2"]
    assert ids(store.list(sdb, "authors", queries=[Query.equal("books.name", ["B1"])]), store) == ["a1"]
    assert store.list(sdb, "books", queries=[Query.equal("author.name", ["Nobody"])]).total == 0
    with pytest.raises(AppwriteException) as e:
        store.list(sdb, "authors", queries=[Query.equal("books", ["b1"])])
    assert error_of(e) == (400, "general_query_invalid", "Invalid query: Cannot query on virtual relationship attribute")
    with pytest.raises(AppwriteException) as e:
        store.list(sdb, "books", queries=[Query.equal("author.nope", ["x"])])
    assert error_of(e) == (400, "general_query_invalid", "Invalid query: Attribute not found in schema: nope")


def test_on_delete_restrict_and_set_null(store, sdb):
    make(store, sdb, "parents", "kids", "owners", "pets")
    store.create_relationship(sdb, "parents", "kids", "oneToMany", key="kids", two_way=True, two_way_key="parent")
    store.create(sdb, "parents", "p1", {"name": "P", "kids": [{"$id": "k1", "name": "K"}]})
    with pytest.raises(AppwriteException) as e:
        store.delete(sdb, "parents", "p1")
    word = store.doc_word.capitalize()
    assert error_of(e) == (403, store.error("document_delete_restricted"), f"{word} cannot be deleted because it is referenced by another {store.doc_word}.")
    assert store.get(sdb, "parents", "p1").id == "p1" and store.get(sdb, "kids", "k1").data["parent"] == "p1"
    # deleting the child side of a oneToMany is not restricted
    store.delete(sdb, "kids", "k1")
    store.delete(sdb, "parents", "p1")

    store.create_relationship(sdb, "pets", "owners", "manyToOne", key="owner", on_delete="setNull", two_way=True, two_way_key="pets")
    store.create(sdb, "owners", "o1", {"name": "O"})
    store.create(sdb, "pets", "x1", {"name": "X", "owner": "o1"})
    store.create(sdb, "pets", "x2", {"name": "Y", "owner": "o1"})
    store.delete(sdb, "owners", "o1")
    assert [store.get(sdb, "pets", x).data["owner"] for x in ("x1", "x2")] == [None, None]


def test_cascade_across_three_levels_leaves_no_orphan(store, sdb):
    make(store, sdb, "orgs", "teams", "members", "others")
    store.create_relationship(sdb, "orgs", "teams", "oneToMany", key="teams", two_way=True, two_way_key="org", on_delete="cascade")
    store.create_relationship(sdb, "teams", "members", "oneToMany", key="members", two_way=True, two_way_key="team", on_delete="cascade")
    store.create_relationship(sdb, "members", "others", "manyToMany", key="friends", on_delete="cascade")
    store.create(sdb, "orgs", "o1", {"name": "Org", "teams": [
        {"$id": "t1", "name": "T1", "members": [{"$id": "m1", "name": "M1"}, {"$id": "m2", "name": "M2"}]},
        {"$id": "t2", "name": "T2", "members": [{"$id": "m3", "name": "M3"}]},
    ]})
    store.update(sdb, "members", "m1", data={"friends": [{"$id": "f1", "name": "F"}]})
    store.create(sdb, "orgs", "o2", {"name": "Kept", "teams": [{"$id": "t9", "name": "T9", "members": [{"$id": "m9", "name": "M9"}]}]})
    store.create(sdb, "others", "f9", {"name": "untouched"})
    store.delete(sdb, "orgs", "o1")
    assert ids(store.list(sdb, "orgs"), store) == ["o2"]
    assert ids(store.list(sdb, "teams"), store) == ["t9"]
    assert ids(store.list(sdb, "members"), store) == ["m9"]
    assert ids(store.list(sdb, "others"), store) == ["f9"]
    for t in store.items(store.list(sdb, "teams")):
        assert t.data["org"] == "o2"


def test_cascade_is_refused_as_a_whole_by_a_restrict_below(store, sdb):
    make(store, sdb, "a", "b", "c")
    store.create_relationship(sdb, "a", "b", "oneToMany", key="bs", two_way=True, two_way_key="a", on_delete="cascade")
    store.create_relationship(sdb, "b", "c", "oneToOne", key="c", on_delete="restrict")
    store.create(sdb, "a", "a1", {"name": "A", "bs": [{"$id": "b1", "name": "B1"}, {"$id": "b2", "name": "B2", "c": {"$id": "c1", "name": "C"}}]})
    with pytest.raises(AppwriteException) as e:
        store.delete(sdb, "a", "a1")
    assert error_of(e)[:2] == (403, store.error("document_delete_restricted"))
    assert ids(store.list(sdb, "b"), store) == ["b1", "b2"] and store.list(sdb, "a").total == 1


def test_update_through_both_path_shapes(store, sdb, api):
    make(store, sdb, "p", "c")
    store.create_relationship(sdb, "p", "c", "oneToMany", key="kids", two_way=True, two_way_key="parent")
    up = attr(store.update_relationship(sdb, "p", "kids", on_delete="cascade"))
    assert (up["key"], up["onDelete"]) == ("kids", "cascade")
    assert attr(store.get_attribute(sdb, "c", "parent"))["onDelete"] == "cascade"
    # the other shape (`…/{key}/relationship`), as the CLI and Node (TablesDB) send it
    attrs = "attributes" if store.legacy else "columns"
    r = api.call("PATCH", store.path(sdb, "p", attrs, "kids", "relationship"), json={"onDelete": "setNull", "newKey": "children"})
    assert r.status_code == 200, r.text
    assert (r.json()["key"], r.json()["onDelete"]) == ("children", "setNull")
    back = attr(store.get_attribute(sdb, "c", "parent"))
    assert (back["twoWayKey"], back["onDelete"]) == ("children", "setNull")
    r = api.call("PATCH", store.path(sdb, "p", attrs, "relationship", "children"), json={"onDelete": "nope"})
    assert r.status_code == 400 and r.json()["message"] == "Invalid `onDelete` param: Value must be one of (cascade, restrict, setNull)"
    r = api.call("PATCH", store.path(sdb, "p", attrs, "relationship", "missing"), json={"onDelete": "cascade"})
    assert r.status_code == 404 and r.json()["type"] == store.error("attribute_not_found")
    r = api.call("PATCH", store.path(sdb, "p", attrs, "relationship", "name"), json={"onDelete": "cascade"})
    assert r.status_code == 400 and r.json()["type"] == store.error("attribute_type_invalid")
    store.create(sdb, "p", "p1", {"name": "x", "children": [{"$id": "k1", "name": "k"}]})
    store.delete(sdb, "p", "p1")
    assert store.get(sdb, "c", "k1").data["parent"] is None


def test_deleting_either_side_removes_both(store, sdb):
    make(store, sdb, "p", "c")
    store.create_relationship(sdb, "p", "c", "oneToOne", key="c", two_way=True, two_way_key="p")
    store.create(sdb, "p", "p1", {"name": "x", "c": {"$id": "c1", "name": "y"}})
    store.delete_attribute(sdb, "c", "p")
    for cid in ("p", "c"):
        page = store.list_attributes(sdb, cid)
        assert [attr(a)["key"] for a in (page.attributes if store.legacy else page.columns)] == ["name"]
    assert store.get(sdb, "p", "p1").data == {"name": "x"}
    assert store.get(sdb, "c", "c1").data == {"name": "y"}
    # the keys are free again
    store.create_relationship(sdb, "p", "c", "manyToMany", key="c", two_way=True, two_way_key="p")


def test_deleting_a_collection_drops_relationships_pointing_at_it(store, sdb):
    make(store, sdb, "p", "c")
    store.create_relationship(sdb, "p", "c", "manyToOne", key="c")
    store.create(sdb, "p", "p1", {"name": "x", "c": {"$id": "c1", "name": "y"}})
    store.delete_collection(sdb, "c")
    page = store.list_attributes(sdb, "p")
    assert [attr(a)["key"] for a in (page.attributes if store.legacy else page.columns)] == ["name"]
    assert store.get(sdb, "p", "p1").data == {"name": "x"}


def test_bulk_writes_refuse_relationships(store, sdb):
    make(store, sdb, "p", "c")
    store.create_relationship(sdb, "p", "c", "manyToOne", key="c")
    ns = "databases" if store.legacy else "tablesDB"
    with pytest.raises(AppwriteException) as e:
        store.create_many(sdb, "p", [{"name": "x"}])
    assert error_of(e) == (400, "general_bad_request", f"Bulk create is not supported for {ns} with relationship {'attributes' if store.legacy else 'columns'}")
    for call, what in [
        (lambda: store.update_many(sdb, "p", data={"name": "y"}), "update"),
        (lambda: store.upsert_many(sdb, "p", [{"$id": "x", "name": "y"}]), "upsert"),
        (lambda: store.delete_many(sdb, "p"), "delete"),
    ]:
        with pytest.raises(AppwriteException) as e:
            call()
        assert error_of(e) == (400, "general_bad_request", f"Bulk {what} is not supported for {ns} with relationship attributes")
    assert store.list(sdb, "p").total == 0


def test_permissions_apply_to_nested_writes(emulator, store, sdb):
    """A caller without a key may only create related documents where the collection lets it."""
    from stores import Store

    store.create_collection(sdb, "open", name="open", permissions=[Permission.read(Role.any()), Permission.create(Role.any())])
    store.create_collection(sdb, "closed", name="closed", permissions=[Permission.read(Role.any())])
    store.create_attribute("string", sdb, "closed", "name", size=64, required=False)
    store.create_relationship(sdb, "open", "closed", "manyToOne", key="ref")
    guest = Store(store.kind, emulator.client(key=False))
    with pytest.raises(AppwriteException) as e:
        guest.create(sdb, "open", "o1", {"ref": {"$id": "c1", "name": "no"}})
    assert error_of(e)[:2] == (401, "user_unauthorized")
    assert store.list(sdb, "open").total == 0 and store.list(sdb, "closed").total == 0
    store.create(sdb, "closed", "c2", {"name": "there"})
    made = guest.create(sdb, "open", "o2", {"ref": "c2"})
    assert made.data["ref"]["$id"] == "c2"


def test_nested_writes_stop_three_levels_down(store, sdb):
    make(store, sdb, "w0", "w1", "w2", "w3")
    for a, b in [("w0", "w1"), ("w1", "w2"), ("w2", "w3")]:
        store.create_relationship(sdb, a, b, "manyToOne", key="next")
    store.create(sdb, "w0", "x0", {"next": {"$id": "x1", "next": {"$id": "x2", "next": {"$id": "x3", "name": "deep"}}}})
    assert store.get(sdb, "w1", "x1").data["next"] == "x2"
    assert store.get(sdb, "w2", "x2").data["next"] is None, "utopia drops relationship values three levels down"
    assert store.list(sdb, "w3").total == 0


def test_reads_inside_a_transaction_populate_relationships(store, sdb):
    make(store, sdb, "books", "authors")
    store.create_relationship(sdb, "books", "authors", "manyToOne", key="author", two_way=True, two_way_key="books")
    store.create(sdb, "authors", "a1", {"name": "Ann"})
    t = store.create_transaction()
    store.create(sdb, "books", "b1", {"name": "One", "author": "a1"}, transaction_id=t.id)
    # as in 1.9.6, a read with a transaction does not skip relationships
    inside = store.get(sdb, "books", "b1", transaction_id=t.id)
    assert inside.data["author"]["name"] == "Ann"
    listed = store.list(sdb, "authors", transaction_id=t.id)
    assert [b["$id"] for b in store.items(listed)[0].data["books"]] == ["b1"]
    with pytest.raises(AppwriteException):
        store.get(sdb, "books", "b1")
    store.update_transaction(t.id, commit=True)
    assert store.get(sdb, "books", "b1").data["author"] == "a1"
