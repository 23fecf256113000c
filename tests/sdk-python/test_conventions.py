"""Request conventions (REFERENCE §2, Appendix A): projects, keys and scopes with their exact errors,
the error body, 204s, array parameters, response formats, unknown parameters, health."""

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.databases import Databases
from appwrite.services.tables_db import TablesDB

from conftest import error_of, start_emulator, unique


def scoped_key(api, scopes, duration=600):
    r = api.call("POST", "/project/keys/ephemeral", json={"scopes": scopes, "duration": duration})
    assert r.status_code == 201, r.text
    assert r.json()["secret"].startswith("ephemeral_")
    return r.json()["secret"]


def test_error_body_has_exactly_four_keys(api):
    r = api.call("GET", "/databases/nope")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {
        "message": "Database with the requested ID 'nope' could not be found.",
        "code": 404,
        "version": "1.9.6",
        "type": "database_not_found",
    }


def test_unknown_route(api):
    r = api.call("GET", "/no/such/route")
    assert (r.status_code, r.json()["type"]) == (404, "general_route_not_found")
    r = api.call("PATCH", "/databases")  # known path, unknown method
    assert (r.status_code, r.json()["type"]) == (404, "general_route_not_found")


PROJECT_CASES = [
    # (description, project header, key, expected code, type)
    ("unknown project", "nope", True, 404, "project_not_found"),
    ("key without a project header", None, True, 401, "general_access_forbidden"),
    ("console with a key", "console", True, 401, "general_access_forbidden"),
    ("unknown standard key", "test", "standard_" + "ab" * 64, 401, "user_unauthorized"),
    ("key without prefix", "test", "plainkey", 401, "user_unauthorized"),
    ("forged ephemeral key", "test", "ephemeral_eyJhbGciOiJIUzI1NiJ9.e30.bad", 401, "general_unauthorized_scope"),
    ("guest", "test", None, 401, "general_unauthorized_scope"),
]


@pytest.mark.parametrize("label,project,key,code,kind", PROJECT_CASES, ids=[c[0] for c in PROJECT_CASES])
def test_project_and_key_errors_on_database_routes(emulator, label, project, key, code, kind):
    import requests

    headers = {}
    if project is not None:
        headers["X-Appwrite-Project"] = project
    if key:
        headers["X-Appwrite-Key"] = emulator.api_key if key is True else key
    r = requests.get(emulator.endpoint + "/databases", headers=headers)
    assert (r.status_code, r.json()["type"]) == (code, kind), r.text


def test_key_without_project_on_non_database_route_is_project_id_missing(emulator):
    import requests

    r = requests.post(emulator.endpoint + "/project/keys/ephemeral", headers={"X-Appwrite-Key": emulator.api_key}, json={"scopes": [], "duration": 60})
    assert (r.status_code, r.json()["type"]) == (403, "project_id_missing")


def test_guest_missing_scope_message(emulator):
    with pytest.raises(AppwriteException) as e:
        Databases(emulator.client(key=False)).list()
    assert error_of(e) == (401, "general_unauthorized_scope", 'User (role: guests) missing scopes (["databases.read"])')


def test_key_without_the_route_scope(emulator, api, databases, db):
    key = scoped_key(api, ["databases.read"])
    limited = Databases(emulator.client(key=key))
    assert limited.get(database_id=db).id == db
    with pytest.raises(AppwriteException) as e:
        limited.create(database_id=unique(), name="no")
    code, kind, message = error_of(e)
    assert (code, kind) == (401, "general_unauthorized_scope")
    assert message.startswith(f"app.test@service.") and message.endswith('(role: applications) missing scopes (["databases.write"])')
    # TablesDB routes accept any of their equivalent scopes
    rows_key = scoped_key(api, ["rows.read", "tables.read"])
    databases.create_collection(database_id=db, collection_id="c", name="C")
    assert TablesDB(emulator.client(key=rows_key)).list_rows(database_id=db, table_id="c").total == 0
    with pytest.raises(AppwriteException) as e:
        Databases(emulator.client(key=rows_key)).list_documents(database_id=db, collection_id="c")
    assert error_of(e)[:2] == (401, "general_unauthorized_scope")


def test_ephemeral_key_is_bound_to_its_project():
    import requests

    e = start_emulator("--project", "other")
    try:
        r = requests.post(e.endpoint + "/project/keys/ephemeral", headers=e.headers(), json={"scopes": ["databases.read"], "duration": 60})
        key = r.json()["secret"]
        assert Databases(e.client(key=key)).list().total == 0
        # the same key on another project is a guest there
        with pytest.raises(AppwriteException) as err:
            Databases(e.client(key=key, project="other")).list()
        assert error_of(err)[:2] == (401, "general_unauthorized_scope")
    finally:
        e.stop()


def test_ephemeral_key_validation(api):
    r = api.call("POST", "/project/keys/ephemeral", json={"scopes": ["not.a.scope"], "duration": 60})
    assert (r.status_code, r.json()["type"]) == (400, "general_argument_invalid")
    r = api.call("POST", "/project/keys/ephemeral", json={"scopes": [], "duration": 4000})
    assert r.json()["message"] == "Invalid `duration` param: Value must be a valid range between 1 and 3,600"


def test_delete_answers_204_with_a_non_json_content_type(api, db):
    r = api.call("DELETE", f"/databases/{db}", json={})
    assert r.status_code == 204 and r.content == b""
    assert r.headers["content-type"].startswith("text/html")


def test_response_format_controls_sequence_type(api, db, databases):
    databases.create_collection(database_id=db, collection_id="c", name="C")
    path = f"/databases/{db}/collections/c/documents"
    r = api.call("POST", path, json={"documentId": "d", "data": {}}, headers={"X-Appwrite-Response-Format": "1.8.0"})
    assert r.status_code == 400  # no data at all is refused …
    databases.create_string_attribute(database_id=db, collection_id="c", key="s", size=5, required=False)
    r = api.call("POST", path, json={"documentId": "d", "data": {"s": "x"}}, headers={"X-Appwrite-Response-Format": "1.8.0"})
    assert r.status_code == 201 and r.json()["$sequence"] == 1
    for fmt in ("1.9.5", "2.5.0", None):
        headers = {"X-Appwrite-Response-Format": fmt} if fmt else {}
        r = api.call("GET", path + "/d", headers=headers)
        assert r.json()["$sequence"] == "1", fmt
    assert "X-Appwrite-Warning" not in r.headers


def test_array_params_in_every_shape(api, db, databases):
    databases.create_collection(database_id=db, collection_id="c", name="C")
    databases.create_integer_attribute(database_id=db, collection_id="c", key="n", required=False)
    for i in range(3):
        databases.create_document(database_id=db, collection_id="c", document_id=f"d{i}", data={"n": i})
    eq = '{"method":"equal","attribute":"n","values":[1,2]}'
    lim = '{"method":"limit","values":[1]}'
    path = f"/databases/{db}/collections/c/documents"
    for params in ({"queries[0]": eq, "queries[1]": lim}, {"queries[]": [eq, lim]}, [("queries", eq), ("queries", lim)]):
        r = api.call("GET", path, params=params)
        assert [d["$id"] for d in r.json()["documents"]] == ["d1"], params


def test_unknown_parameters_are_ignored_and_empty_get_content_type_accepted(api, db):
    r = api.call("PUT", f"/databases/{db}", json={"name": "X", "surprise": 1, "specification": "s-1"})
    assert r.status_code == 200 and r.json()["name"] == "X"
    r = api.call("GET", f"/databases/{db}", headers={"content-type": ""})
    assert r.status_code == 200


def test_project_param_instead_of_header(emulator):
    import requests

    r = requests.get(emulator.endpoint + "/health/version", params={"project": "test"})
    assert r.json() == {"version": "1.9.6"}
    r = requests.get(emulator.endpoint + "/databases", params={"project": "test"})
    assert (r.status_code, r.json()["type"]) == (401, "general_unauthorized_scope")


def test_health(api, emulator):
    import requests

    assert requests.get(emulator.endpoint + "/health/version", headers={"X-Appwrite-Project": "console"}).json() == {"version": "1.9.6"}
    r = api.call("GET", "/health")
    assert r.status_code == 200 and r.json()["status"] == "pass"
    assert requests.get(emulator.endpoint + "/health").status_code == 401  # needs health.read


def test_python_27_extra_fields(databases, db):
    got = databases.get(database_id=db)
    assert got.description == ""
    c = databases.create_collection(database_id=db, collection_id="c", name="C")
    assert c.description == ""
    a = databases.create_boolean_attribute(database_id=db, collection_id="c", key="b", required=False)
    assert a.description == ""


def test_head_is_answered_like_get(api, db):
    r = api.call("HEAD", f"/databases/{db}")
    assert r.status_code == 200 and r.content == b""
    r = api.call("HEAD", "/databases/missing")
    assert r.status_code == 404
