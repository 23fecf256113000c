"""The versioned API at the gateway: version resolution, unsupported and deprecated versions,
identity and scopes, and the per-version usage metrics."""

import json
import pathlib
from calendar import timegm
from datetime import date
from email.utils import formatdate

import pytest
from appwrite.query import Query

ROUTES = json.loads((pathlib.Path(__file__).resolve().parents[2] / "functions" / "api-gateway" / "routes.json").read_text())
DEPRECATED = [v for v, info in ROUTES["versions"].items() if info["status"] == "deprecated"]
CURRENT = [v for v, info in ROUTES["versions"].items() if info["status"] == "current"]


def error(r):
    return r.status_code, r.json()["error"]["code"]


def test_an_unsupported_version_lists_the_supported_ones(backend):
    user = backend.new_user()
    for r in (
        backend.call("POST", "/v3/upload", user, data=b"x"),
        backend.call("GET", "/credits", user, headers={"X-API-Version": "3"}),
        backend.call("GET", "/credits", user, headers={"Accept-Version": "v7"}),
    ):
        assert error(r) == (404, "unsupported_api_version")
        assert r.json()["error"]["supported_versions"] == sorted(DEPRECATED + CURRENT)
        assert "Supported versions: v1, v2." in r.json()["error"]["message"]
    assert error(backend.call("GET", "/credits", user, headers={"Accept-Version": "newest"})) == (400, "invalid_request")


def test_the_version_comes_from_the_path_then_a_header_then_the_default(backend):
    user = backend.new_user()
    assert backend.call("GET", "/v2/credits", user).headers["x-api-version"] == "v2"
    assert backend.call("GET", "/credits", user, headers={"Accept-Version": "v2"}).headers["x-api-version"] == "v2"
    assert backend.call("GET", "/credits", user, headers={"X-API-Version": "2"}).headers["x-api-version"] == "v2"
    assert backend.call("GET", "/credits", user).headers["x-api-version"] == ROUTES["default_version"]
    assert backend.call("GET", "/v2/credits", user, headers={"Accept-Version": "v1"}).headers["x-api-version"] == "v2"


@pytest.mark.skipif(not DEPRECATED, reason="routes.json deprecates no version")
def test_a_deprecated_version_answers_with_deprecation_and_sunset(backend):
    user = backend.new_user()
    for version in DEPRECATED:
        info = ROUTES["versions"][version]
        r = backend.call("GET", f"/{version}/credits", user)
        assert r.status_code == 200
        deprecated_at = timegm(date.fromisoformat(info["deprecated_at"]).timetuple())
        sunset = timegm(date.fromisoformat(info["sunset_at"]).timetuple())
        assert r.headers["deprecation"] == f"@{deprecated_at}"
        assert r.headers["sunset"] == formatdate(sunset, usegmt=True)
        assert r.headers["link"] == f'</{CURRENT[0]}/credits>; rel="successor-version"'
        # Errors in a deprecated version say so too.
        assert backend.call("GET", f"/{version}/jobs/nope", user).headers["sunset"] == formatdate(sunset, usegmt=True)
    for version in CURRENT:
        r = backend.call("GET", f"/{version}/credits", user)
        assert r.status_code == 200 and "deprecation" not in r.headers and "sunset" not in r.headers


def test_callers_must_bring_a_valid_jwt(backend):
    user = backend.new_user()
    assert error(backend.call("GET", "/v2/credits")) == (401, "unauthorized")
    assert error(backend.call("GET", "/v2/credits", headers={"Authorization": "Bearer not-a-jwt"})) == (401, "unauthorized")
    assert error(backend.call("GET", "/v2/credits", headers={"X-Appwrite-JWT": user.jwt()[:-4] + "AAAA"})) == (401, "unauthorized")
    assert backend.call("GET", "/v2/credits", user, style="header").status_code == 200
    assert backend.call("GET", "/v2/credits", user, style="bearer").status_code == 200
    # An API key is not a user.
    assert error(backend.call("GET", "/v2/credits", headers={"X-Appwrite-Key": backend.emulator.api_key})) == (401, "unauthorized")


def test_scopes_come_from_labels(backend, spoken):
    readonly = backend.new_user(labels=["readonly"])
    r = backend.upload_v1(readonly, spoken[0].read_bytes())
    assert error(r) == (403, "forbidden_scope") and r.json()["error"]["missing_scopes"] == ["transcriptions.write"]
    assert backend.call("GET", "/v2/jobs", readonly).json() == {"jobs": [], "count": 0}
    suspended = backend.new_user(labels=["suspended"])
    assert error(backend.call("GET", "/v2/credits", suspended)) == (403, "forbidden_scope")
    assert backend.jobs_of(readonly) == [] and backend.rows("user_credits", Query.equal("user_id", [suspended.id])) == []


def test_unknown_routes_and_methods(backend):
    user = backend.new_user()
    assert error(backend.call("GET", "/v2/nothing", user)) == (404, "route_not_found")
    r = backend.call("GET", "/v2/upload", user)
    assert error(r) == (405, "method_not_allowed") and r.headers["allow"] == "POST"


def test_users_only_see_their_own_jobs(backend, spoken):
    alice, bob = backend.new_user(), backend.new_user()
    job = backend.upload_v1(alice, spoken[3].read_bytes()).json()["job"]
    assert error(backend.call("GET", f"/v2/jobs/{job['id']}", bob)) == (404, "job_not_found")
    assert backend.call("GET", f"/v2/jobs/{job['id']}", alice).json()["job"]["id"] == job["id"]
    assert backend.call("GET", "/v2/jobs", bob).json()["count"] == 0
    backend.wait_jobs(alice, count=1)


def test_every_request_is_recorded_with_its_version(backend):
    user = backend.new_user()
    before = {v: len(backend.rows("api_requests", Query.equal("api_version", [v]))) for v in ("v1", "v2", "v9")}
    backend.call("GET", "/v1/credits", user)
    backend.call("GET", "/v2/credits", user)
    backend.call("GET", "/credits", user, headers={"Accept-Version": "v2"})
    backend.call("GET", "/v9/credits", user)
    after = {v: len(backend.rows("api_requests", Query.equal("api_version", [v]))) for v in ("v1", "v2", "v9")}
    assert {v: after[v] - before[v] for v in after} == {"v1": 1, "v2": 2, "v9": 1}
    mine = backend.rows("api_requests", Query.equal("user_id", [user.id]), Query.order_asc("$sequence"))
    assert [(r["api_version"], r["route"], r["status_code"], r["deprecated"]) for r in mine] == [
        ("v1", "/v1/credits", 200, "v1" in DEPRECATED),
        ("v2", "/v2/credits", 200, False),
        ("v2", "/v2/credits", 200, False),
    ]
    refused = backend.rows("api_requests", Query.equal("api_version", ["v9"]))[-1]
    assert refused["status_code"] == 404 and refused["user_id"] is None and refused["route"] is None


def test_the_server_clock_is_the_emulator_clock(backend):
    import requests

    now = backend.now()
    r = requests.get(f"{backend.emulator.endpoint}/health/time", headers=backend.emulator.headers())
    local = r.json()["localTime"]
    from datetime import datetime

    assert abs(local - datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()) < 5
