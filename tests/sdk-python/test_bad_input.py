"""Bad input: every malformed request gets a 4xx Appwrite error and changes nothing."""

import json

import pytest

from conftest import unique

HOSTILE = ["a'; DROP TABLE databases; --", 'x" OR 1=1 --', "%_\\", "😀" * 5, "a]; [b", "\u0000null"]
# SQLite's LIKE stops at an embedded NUL, so pattern matching of such values is not exercised.
LIKE_SAFE = [h for h in HOSTILE if "\u0000" not in h]


@pytest.fixture
def coll(api, db):
    assert api.call("POST", f"/databases/{db}/collections", json={"collectionId": "c", "name": "C"}).status_code == 201
    assert api.call("POST", f"/databases/{db}/collections/c/attributes/string", json={"key": "s", "size": 100, "required": False}).status_code == 202
    assert api.call("POST", f"/databases/{db}/collections/c/documents", json={"documentId": "keep", "data": {"s": "kept"}}).status_code == 201
    return f"/databases/{db}/collections/c"


def assert_unchanged(api, coll):
    r = api.call("GET", coll + "/documents")
    assert r.status_code == 200
    assert [(d["$id"], d["s"]) for d in r.json()["documents"]] == [("keep", "kept")]
    attrs = api.call("GET", coll + "/attributes").json()
    assert [a["key"] for a in attrs["attributes"]] == ["s"]


def assert_error(r, code, kind=None):
    assert r.status_code == code, r.text
    body = r.json()
    assert set(body) == {"message", "code", "type", "version"} and body["code"] == code
    if kind:
        assert body["type"] == kind, body
    return body


def test_malformed_json(api, coll):
    for raw in (b"{", b"{'single': 'quotes'}", b"[1,2]", b'"just a string"', b"\xff\xfe"):
        r = api.call("POST", coll + "/documents", data=raw)
        assert_error(r, 400, "general_bad_request")
    assert_unchanged(api, coll)


def test_wrong_content_types(api, coll):
    body = json.dumps({"documentId": "x", "data": {"s": "v"}})
    for ctype in ("text/plain", "application/xml", "image/png"):
        r = api.call("POST", coll + "/documents", data=body, headers={"content-type": ctype})
        assert_error(r, 400, "general_bad_request")
    r = api.call("POST", coll + "/documents", data=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    assert_error(r, 400, "general_bad_request")
    assert_unchanged(api, coll)


def test_oversized_body(api, coll):
    big = json.dumps({"documentId": "big", "data": {"s": "x" * (33 * 1024 * 1024)}})
    r = api.call("POST", coll + "/documents", data=big)
    assert_error(r, 400, "general_bad_request")
    assert_unchanged(api, coll)


@pytest.mark.parametrize("bad_id", ["_leading", "-leading", ".leading", "has space", "semi;colon", "x" * 37, "quote'id", ""])
def test_bad_ids(api, coll, db, bad_id):
    r = api.call("POST", coll + "/documents", json={"documentId": bad_id, "data": {"s": "v"}})
    expected = "document_missing_data" if bad_id == "" else "general_argument_invalid"
    assert_error(r, 400, expected)
    r = api.call("POST", "/databases", json={"databaseId": bad_id, "name": "x"})
    assert_error(r, 400, "general_argument_invalid")
    r = api.call("POST", f"/databases/{db}/collections", json={"collectionId": bad_id, "name": "x"})
    assert_error(r, 400, "general_argument_invalid")
    assert_unchanged(api, coll)


@pytest.mark.parametrize("key", HOSTILE + ["x" * 37, "$id"])
def test_hostile_attribute_and_index_keys(api, coll, key):
    r = api.call("POST", coll + "/attributes/string", json={"key": key, "size": 10, "required": False})
    assert_error(r, 400, "general_argument_invalid")
    r = api.call("POST", coll + "/indexes", json={"key": key, "type": "key", "attributes": ["s"]})
    assert_error(r, 400, "general_argument_invalid")
    if key != "$id":  # internal keys may be indexed
        r = api.call("POST", coll + "/indexes", json={"key": "ok", "type": "key", "attributes": [key]})
        assert r.status_code == 400
    assert_unchanged(api, coll)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_data(api, coll, value):
    doc_id = unique("h")
    r = api.call("POST", coll + "/documents", json={"documentId": doc_id, "data": {"s": value}})
    assert r.status_code == 201, r.text
    methods = ("equal", "startsWith", "endsWith", "contains", "notEqual") if value in LIKE_SAFE else ("equal", "notEqual")
    for method in methods:
        q = json.dumps({"method": method, "attribute": "s", "values": [value]})
        r = api.call("GET", coll + "/documents", params={"queries[0]": q})
        assert r.status_code == 200, r.text
        found = [d["$id"] for d in r.json()["documents"]]
        if method == "notEqual":
            assert doc_id not in found and "keep" in found
        else:
            assert found == [doc_id], (method, found)
    assert api.call("DELETE", coll + f"/documents/{doc_id}").status_code == 204
    assert_unchanged(api, coll)


@pytest.mark.parametrize("attr", HOSTILE)
def test_hostile_query_attributes(api, coll, attr):
    for method in ("equal", "orderAsc", "isNull"):
        q = {"method": method, "attribute": attr}
        if method == "equal":
            q["values"] = ["x"]
        r = api.call("GET", coll + "/documents", params={"queries[0]": json.dumps(q)})
        assert_error(r, 400, "general_query_invalid")
    assert_unchanged(api, coll)


def test_malformed_queries(api, coll):
    for q in ("{", "[]", "42", '{"method":"equal","attribute":"s","values":"notalist"}', '{"method":{"x":1}}', '{"method":"or","values":[1,2]}'):
        r = api.call("GET", coll + "/documents", params={"queries[0]": q})
        assert r.status_code == 400, (q, r.text)
    assert_unchanged(api, coll)


def test_deeply_nested_logical_queries(api, coll):
    # as deep as 4096 characters allow, both shapes: an error or an answer, never a 500
    for op in ("or", "and"):
        q = {"method": "equal", "attribute": "s", "values": ["kept"]}
        while True:
            deeper = {"method": op, "values": [q, {"method": "isNull", "attribute": "s"}]}
            if len(json.dumps(deeper, separators=(",", ":"))) > 4096:
                break
            q = deeper
        r = api.call("GET", coll + "/documents", params={"queries[0]": json.dumps(q, separators=(",", ":"))})
        assert r.status_code == 200, r.text
        assert [d["$id"] for d in r.json()["documents"]] == (["keep"] if op == "or" else [])
    # and nesting beyond the JSON parser's recursion limit is a clean 400
    deep = '{"method":"or","values":[' * 200 + "]}" * 200
    r = api.call("GET", coll + "/documents", params={"queries[0]": deep})
    assert r.status_code == 400
    assert_unchanged(api, coll)


def test_wrong_types_for_params(api, coll, db):
    cases = [
        ("POST", "/databases", {"databaseId": "x1", "name": 5, "enabled": "maybe"}),
        ("POST", coll + "/attributes/string", {"key": "k", "size": "huge", "required": False}),
        ("POST", coll + "/attributes/string", {"key": "k", "size": 0, "required": False}),
        ("POST", coll + "/attributes/integer", {"key": "k", "required": "yes"}),
        ("POST", coll + "/attributes/integer", {"key": "k", "required": False, "min": "a"}),
        ("POST", coll + "/documents", {"documentId": "x", "data": "not json"}),
        ("POST", coll + "/documents", {"documentId": "x", "data": {"s": "v"}, "permissions": "read(any)"}),
        ("POST", coll + "/documents", {"documentId": "x", "data": {"s": "v"}, "permissions": ['read("nobody")']}),
        ("GET", coll + "/documents?total=perhaps", None),
    ]
    for method, path, body in cases:
        r = api.call(method, path, json=body)
        assert_error(r, 400)
    assert api.call("GET", "/databases/x1").status_code == 404
    assert_unchanged(api, coll)
