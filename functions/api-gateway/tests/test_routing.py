"""api-gateway's decisions on the repository's own routes.json: versions, routes, deprecation
headers, the policy, and scopes from labels."""

from datetime import datetime, timezone

import pytest

BEFORE_SUNSET = datetime(2026, 12, 1, tzinfo=timezone.utc)
AFTER_SUNSET = datetime(2027, 9, 2, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def routing(staged):
    return staged("api-gateway", "routing")


@pytest.fixture(scope="module")
def table(routing):
    return routing.load()


@pytest.mark.parametrize("path, headers, expected", [
    ("/v1/upload", {}, ("v1", "/upload")),
    ("/v2/upload", {}, ("v2", "/upload")),
    ("/V2/jobs/abc/", {}, ("v2", "/jobs/abc")),
    ("/upload", {}, ("v1", "/upload")),
    ("/upload", {"accept-version": "v2"}, ("v2", "/upload")),
    ("/upload", {"x-api-version": "2"}, ("v2", "/upload")),
    ("/v1/upload", {"accept-version": "v2"}, ("v1", "/upload")),
])
def test_the_version_comes_from_the_path_then_the_headers_then_the_default(routing, table, path, headers, expected):
    assert routing.resolve_version(path, headers, table, BEFORE_SUNSET) == expected


@pytest.mark.parametrize("path, headers", [("/v3/upload", {}), ("/v0/upload", {}), ("/upload", {"x-api-version": "9"})])
def test_an_unsupported_version_is_a_404_listing_the_supported_ones(routing, table, path, headers):
    with pytest.raises(routing.ApiError) as e:
        routing.resolve_version(path, headers, table, BEFORE_SUNSET)
    assert (e.value.status, e.value.code) == (404, "unsupported_api_version")
    assert e.value.details["supported_versions"] == ["v1", "v2"]
    assert "Supported versions: v1, v2." in e.value.message


def test_a_version_header_that_is_no_version_is_a_400(routing, table):
    with pytest.raises(routing.ApiError) as e:
        routing.resolve_version("/upload", {"accept-version": "latest"}, table, BEFORE_SUNSET)
    assert (e.value.status, e.value.code) == (400, "invalid_request")


def test_after_its_sunset_a_version_is_retired(routing, table):
    assert routing.supported_versions(table, AFTER_SUNSET) == ["v2"]
    with pytest.raises(routing.ApiError) as e:
        routing.resolve_version("/v1/upload", {}, table, AFTER_SUNSET)
    assert e.value.code == "unsupported_api_version" and "retired on 2027-09-01" in e.value.message
    assert e.value.details["supported_versions"] == ["v2"]
    # The last day of service still serves.
    assert routing.resolve_version("/v1/upload", {}, table, datetime(2027, 9, 1, 23, 59, tzinfo=timezone.utc))[0] == "v1"


def test_routes_match_with_parameters_and_methods(routing, table):
    m = routing.match(table, "v2", "/jobs/abc123", "GET")
    assert (m.key, m.params, m.route["function"]) == ("/v2/jobs/{id}", {"id": "abc123"}, "api-gateway")
    assert routing.match(table, "v1", "/upload", "POST").route["function"] == "upload-audio-v1"
    assert routing.match(table, "v2", "/upload", "POST").route["function"] == "upload-audio-v2"
    with pytest.raises(routing.ApiError) as e:
        routing.match(table, "v1", "/upload", "GET")
    assert (e.value.status, e.value.code, e.value.headers) == (405, "method_not_allowed", {"allow": "POST"})
    with pytest.raises(routing.ApiError) as e:
        routing.match(table, "v1", "/nothing", "GET")
    assert (e.value.status, e.value.code) == (404, "route_not_found")


def test_a_deprecated_version_says_so_and_when_it_ends(routing, table):
    headers = routing.deprecation_headers(table, "v1", "/v1/upload")
    assert headers == {
        "x-api-version": "v1",
        "deprecation": "@1788220800",  # 2026-09-01T00:00:00Z
        "sunset": "Wed, 01 Sep 2027 00:00:00 GMT",
        "link": '</v2/upload>; rel="successor-version"',
    }
    assert routing.deprecation_headers(table, "v2", "/v2/upload") == {"x-api-version": "v2"}


def test_the_repository_follows_its_own_deprecation_policy(routing, table):
    assert table["policy"] == {**table["policy"], "deprecation_notice_months": 6, "support_months": 12}
    assert routing.policy_problems(table) == []


@pytest.mark.parametrize("versions, problem", [
    ({"v1": {"status": "deprecated"}}, "v1 is deprecated without deprecated_at and sunset_at"),
    ({"v1": {"status": "deprecated", "deprecated_at": "2026-01-31", "sunset_at": "2026-07-30"}}, "less than 6 months after its deprecation"),
    ({"v1": {"status": "deprecated", "deprecated_at": "2026-01-01", "sunset_at": "2026-12-31"}, "v2": {"status": "current", "released_at": "2026-01-01"}},
     "less than 12 months after v2 was released"),
])
def test_dates_that_break_the_policy_are_found(routing, versions, problem):
    problems = routing.policy_problems({"policy": {"deprecation_notice_months": 6, "support_months": 12}, "versions": versions})
    assert len(problems) == 1 and problem in problems[0]


def test_scopes_come_from_labels(routing, table):
    access = table["access"]
    assert routing.scopes_for([], access) == ["credits.read", "transcriptions.read", "transcriptions.write"]
    assert routing.scopes_for(["vip"], access) == ["credits.read", "transcriptions.read", "transcriptions.write"]
    assert routing.scopes_for(["readonly"], access) == ["credits.read", "transcriptions.read"]
    assert routing.scopes_for(["suspended"], access) == []
    upload = table["routes"]["/v1/upload"]
    assert routing.missing_scopes(upload, routing.scopes_for(["readonly"], access)) == ["transcriptions.write"]
    assert routing.missing_scopes(upload, routing.scopes_for([], access)) == []


def test_every_route_needs_scopes_some_user_can_hold(table):
    access = table["access"]
    grantable = set(access["default_scopes"]).union(*access["label_scopes"].values())
    for key, route in table["routes"].items():
        assert set(route["required_scopes"]) <= grantable, key
