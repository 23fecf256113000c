"""The query language: one scenario per method the 1.9.6 server accepts (spatial and vector
aside), paging, ordering, totals, limits and the server's error messages."""

import json

import pytest
from appwrite.exception import AppwriteException
from appwrite.query import Query

from conftest import error_of

ROWS = [
    # id, name, n, score, tags, when
    ("a", "alpha", 1, 0.5, ["red", "blue"], "2026-01-01T00:00:00.000+00:00"),
    ("b", "beta", 2, 1.5, ["blue"], "2026-02-01T00:00:00.000+00:00"),
    ("c", "gamma", 3, None, [], "2026-03-01T00:00:00.000+00:00"),
    ("d", "delta", 4, 3.5, ["green", "red"], None),
    ("e", "Alphabet", None, 5.0, ["red"], "2026-05-01T00:00:00.000+00:00"),
]


@pytest.fixture
def data(store, sdb):
    store.create_collection(sdb, "q")
    store.create_attribute("string", sdb, "q", "name", size=20, required=True)
    store.create_attribute("integer", sdb, "q", "n", required=False)
    store.create_attribute("float", sdb, "q", "score", required=False)
    store.create_attribute("string", sdb, "q", "tags", size=10, required=False, array=True)
    store.create_attribute("datetime", sdb, "q", "when", required=False)
    for id_, name, n, score, tags, when in ROWS:
        store.create(sdb, "q", id_, {"name": name, "n": n, "score": score, "tags": tags, "when": when})
    return sdb


def ids(store, db, queries):
    return [d.id for d in store.items(store.list(db, "q", queries))]


FILTERS = [
    ("equal", [Query.equal("n", [1, 3])], ["a", "c"]),
    ("equal string", [Query.equal("name", ["beta"])], ["b"]),
    ("notEqual", [Query.not_equal("name", "beta")], ["a", "c", "d", "e"]),
    ("lessThan", [Query.less_than("n", 3)], ["a", "b"]),
    ("lessThanEqual", [Query.less_than_equal("n", 3)], ["a", "b", "c"]),
    ("greaterThan", [Query.greater_than("score", 1.5)], ["d", "e"]),
    ("greaterThanEqual", [Query.greater_than_equal("score", 1.5)], ["b", "d", "e"]),
    ("isNull", [Query.is_null("n")], ["e"]),
    ("isNotNull", [Query.is_not_null("when")], ["a", "b", "c", "e"]),
    ("between", [Query.between("n", 2, 3)], ["b", "c"]),
    ("notBetween", [Query.not_between("n", 2, 3)], ["a", "d"]),
    ("startsWith", [Query.starts_with("name", "al")], ["a", "e"]),
    ("notStartsWith", [Query.not_starts_with("name", "al")], ["b", "c", "d"]),
    ("endsWith", [Query.ends_with("name", "ta")], ["b", "d"]),
    ("startsWith on an integer compares its digits", [Query.starts_with("n", 1)], ["a"]),
    ("notStartsWith on an integer", [Query.not_starts_with("n", 1)], ["b", "c", "d"]),
    ("endsWith on an integer", [Query.ends_with("n", 3)], ["c"]),
    ("startsWith on a float", [Query.starts_with("score", 1)], ["b"]),
    ("notEndsWith", [Query.not_ends_with("name", "ta")], ["a", "c", "e"]),
    ("contains string", [Query.contains("name", "lph")], ["a", "e"]),
    ("contains array", [Query.contains("tags", ["red"])], ["a", "d", "e"]),
    ("containsAny", [Query.contains_any("tags", ["green", "blue"])], ["a", "b", "d"]),
    ("containsAll", [Query.contains_all("tags", ["red", "blue"])], ["a"]),
    ("notContains", [Query.not_contains("tags", ["red"])], ["b", "c"]),
    ("datetime range", [Query.greater_than("when", "2026-02-15T00:00:00.000+00:00")], ["c", "e"]),
    ("$id", [Query.equal("$id", ["c", "e"])], ["c", "e"]),
    ("$sequence", [Query.greater_than("$sequence", 3)], ["d", "e"]),
    ("or", [Query.or_queries([Query.equal("n", [1]), Query.is_null("n")])], ["a", "e"]),
    ("and", [Query.and_queries([Query.greater_than("n", 1), Query.less_than("n", 4)])], ["b", "c"]),
    (
        "nested or/and",
        [Query.or_queries([Query.and_queries([Query.equal("n", [2]), Query.equal("name", ["beta"])]), Query.equal("$id", ["e"])])],
        ["b", "e"],
    ),
    ("several filters are ANDed", [Query.greater_than("n", 1), Query.contains("tags", ["red"])], ["d"]),
]


@pytest.mark.parametrize("label,queries,expected", FILTERS, ids=[f[0] for f in FILTERS])
def test_filters(store, data, label, queries, expected):
    assert ids(store, data, queries) == expected


def test_created_and_updated_sugar(store, data):
    all_docs = store.items(store.list(data, "q"))
    middle = all_docs[2].createdat
    assert ids(store, data, [Query.created_after(middle)]) == [d.id for d in all_docs if d.createdat > middle]
    assert ids(store, data, [Query.updated_before("2000-01-01T00:00:00.000+00:00")]) == []


def test_ordering_with_sequence_tie_break(store, data):
    assert ids(store, data, [Query.order_asc("n")]) == ["e", "a", "b", "c", "d"]  # nulls first
    assert ids(store, data, [Query.order_desc("score")]) == ["e", "d", "b", "a", "c"]
    assert ids(store, data, [Query.order_desc("$createdAt")]) == ["e", "d", "c", "b", "a"]
    assert sorted(ids(store, data, [Query.order_random()])) == ["a", "b", "c", "d", "e"]
    store.update(data, "q", "a", data={"n": 2})
    assert ids(store, data, [Query.equal("n", [2]), Query.order_asc("n")]) == ["a", "b"]


def test_paging_limit_offset_cursors(store, data):
    assert ids(store, data, [Query.limit(2)]) == ["a", "b"]
    assert ids(store, data, [Query.limit(2), Query.offset(2)]) == ["c", "d"]
    assert ids(store, data, [Query.cursor_after("b"), Query.limit(2)]) == ["c", "d"]
    assert ids(store, data, [Query.cursor_before("d"), Query.limit(2)]) == ["b", "c"]
    assert ids(store, data, [Query.order_desc("name"), Query.cursor_after("d")]) == ["b", "a", "e"]
    with pytest.raises(AppwriteException) as e:
        store.list(data, "q", [Query.cursor_after("zzz")])
    word = store.doc_word.capitalize()
    assert error_of(e) == (400, "general_cursor_not_found", f"{word} 'zzz' for the 'cursor' value not found.")
    with pytest.raises(AppwriteException) as e:
        store.list(data, "q", [Query.order_asc("n"), Query.cursor_after("e")])
    assert error_of(e)[:2] == (400, "database_query_order_null")


def test_post_query_form_equals_list(store, data):
    queries = [Query.greater_than("n", 1), Query.order_desc("n")]
    assert [d.id for d in store.items(store.query(data, "q", queries))] == ids(store, data, queries)


def test_total_default_limit_and_cap(store, sdb):
    store.create_collection(sdb, "big")
    store.create_attribute("integer", sdb, "big", "i", required=True)
    for start in range(0, 5050, 100):
        store.create_many(sdb, "big", [{"i": i} for i in range(start, min(start + 100, 5050))])
    page = store.list(sdb, "big")
    assert page.total == 5000 and len(store.items(page)) == 25
    assert store.list(sdb, "big", [Query.greater_than_equal("i", 5000)]).total == 50
    no_total = store.list(sdb, "big", [Query.limit(3)], total=False)
    assert no_total.total == 0 and len(store.items(no_total)) == 3
    assert len(store.items(store.list(sdb, "big", [Query.limit(1000)]))) == 1000


QUERY_ERRORS = [
    ([Query.equal("nope", ["x"])], "Invalid query: Attribute not found in schema: nope"),
    ([Query.order_asc("nope")], "Invalid query: Attribute not found in schema: nope"),
    ([Query.search("name", "x")], 'Searching by attribute "name" requires a fulltext index.'),
    ([Query.equal("n", ["notanumber"])], 'Invalid query: Query value is invalid for attribute "n"'),
    ([Query.contains("n", [1])], 'Invalid query: Cannot query contains on attribute "n" because it is not an array, string, or object.'),
    ([Query.equal("tags", ["red"])], 'Invalid query: Cannot query equal on attribute "tags" because it is an array.'),
    ([json.dumps({"method": "between", "attribute": "n", "values": [1]})], "Invalid query: Between queries require exactly two values."),
    ([Query.limit(0)], "Invalid query: Invalid limit: Value must be a valid range between 1 and 9,223,372,036,854,775,807"),
    ([Query.offset(-1)], "Invalid query: Invalid offset: Value must be a valid range between 0 and 9,223,372,036,854,775,807"),
    (['{"method":"nope"}'], "Invalid query method: nope"),
    (["not json"], "Invalid query: Syntax error"),
    ([Query.regex("name", "^[ab]")], "Invalid query method: regex"),
    ([Query.or_queries([Query.equal("n", [1])])], "Invalid query: Or queries require at least two queries"),
    ([Query.or_queries([Query.equal("n", [1]), Query.limit(1)])], "Invalid query: Or queries can only contain filter queries"),
    ([Query.elem_match("tags", [Query.equal("name", ["x"])])], "Invalid query: elemMatch is not supported by the database"),
    ([Query.elem_match("tags", [Query.equal("x", [1])])], "Invalid query: Attribute not found in schema: x"),
    ([Query.exists(["n"])], "Invalid query: Attribute not found in schema: "),
    ([Query.crosses("name", [[0, 0]])], 'Invalid query: Spatial query "crosses" cannot be applied on non-spatial attribute: name'),
    ([Query.vector_dot("name", [1.0])], "Invalid query: Vector queries can only be used on vector attributes"),
]


@pytest.mark.parametrize("queries,message", QUERY_ERRORS, ids=[m[:40] for _, m in QUERY_ERRORS])
def test_query_errors(store, data, queries, message):
    with pytest.raises(AppwriteException) as e:
        store.list(data, "q", queries)
    code, kind, text = error_of(e)
    assert (code, kind, text) == (400, "general_query_invalid", message)


def test_exists_with_an_attribute_is_not_null(api, store, data):
    base = f"/{'databases' if store.legacy else 'tablesdb'}/{data}/{'collections' if store.legacy else 'tables'}/q/{store.docs_key}"
    q = json.dumps({"method": "exists", "attribute": "n", "values": ["n"]})
    r = api.call("GET", base, params={"queries[0]": q})
    assert r.status_code == 200 and [d["$id"] for d in r.json()[store.docs_key]] == ["a", "b", "c", "d"]


def test_query_count_and_length_limits(store, data):
    with pytest.raises(AppwriteException) as e:
        store.list(data, "q", [Query.limit(5)] * 101)
    assert error_of(e)[:2] == (400, "general_argument_invalid")
    with pytest.raises(AppwriteException) as e:
        store.list(data, "q", [Query.equal("name", ["x" * 4100])])
    assert error_of(e)[:2] == (400, "general_argument_invalid")
    assert ids(store, data, [Query.limit(25)] * 100) == ["a", "b", "c", "d", "e"]


def test_deeply_nested_queries_are_answered(store, data):
    q = {"method": "equal", "attribute": "n", "values": [1]}
    for _ in range(40):
        q = {"method": "or", "values": [q, {"method": "equal", "attribute": "n", "values": [99]}]}
    text = json.dumps(q, separators=(",", ":"))
    assert len(text) < 4096
    assert ids(store, data, [text]) == ["a"]
