"""The route table (`routes.json`, shipped beside `src/`) and the decisions taken on it, as pure
functions: which version a request asks for, which route it matches, which scopes a user holds,
and what a deprecated version's headers say.

Versioning: the version comes from the path (`/v2/upload`), else from `Accept-Version` or
`X-API-Version` (`v2` or `2`) on an unversioned path (`/upload`), else `default_version`. A
version is supported while its status is `current` or `deprecated` and its `sunset_at` has not
passed; otherwise the answer is 404 `unsupported_api_version` listing the supported ones.

Deprecation policy (`policy` in routes.json): a version is announced deprecated
(`deprecated_at`) at least `deprecation_notice_months` (6) before its `sunset_at`, and stays
supported at least `support_months` (12) after its successor's `released_at`. While deprecated it
answers with `Deprecation: @<deprecated_at as Unix seconds>` (RFC 9745), `Sunset: <HTTP date>`
(RFC 8594) and a `Link` to the same route in the successor version when there is one.
"""

import calendar
import json
import pathlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from email.utils import format_datetime

from .shared.utils import ApiError

ROUTES_FILE = pathlib.Path(__file__).resolve().parent.parent / "routes.json"
VERSION = re.compile(r"^v([1-9][0-9]*)$")


def load(path=ROUTES_FILE):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def parse_version(text):
    """`v2` or `2` → `v2`; anything else → None."""
    text = (text or "").strip().lower()
    if text.isdigit() and text != "0" and not text.startswith("0"):
        return f"v{text}"
    return text if VERSION.match(text) else None


def _day(value):
    return date.fromisoformat(value) if value else None


def sunset_moment(info):
    """The instant a version stops being served: the end of its `sunset_at` day (UTC)."""
    day = _day(info.get("sunset_at"))
    return datetime.combine(day, time.max, tzinfo=timezone.utc) if day else None


def supported_versions(table, now):
    out = []
    for version, info in table.get("versions", {}).items():
        if info.get("status") not in ("current", "deprecated"):
            continue
        sunset = sunset_moment(info)
        if sunset is None or now <= sunset:
            out.append(version)
    return sorted(out, key=lambda v: int(v[1:]))


def _unsupported(requested, table, now):
    supported = supported_versions(table, now)
    info = table.get("versions", {}).get(requested)
    if info and (info.get("status") == "retired" or (sunset_moment(info) and now > sunset_moment(info))):
        why = f"API version {requested} was retired" + (f" on {info['sunset_at']}" if info.get("sunset_at") else "") + "."
    else:
        why = f"API version {requested} is not supported."
    return ApiError("unsupported_api_version", f"{why} Supported versions: {', '.join(supported)}.", requested_version=requested, supported_versions=supported)


def resolve_version(path, headers, table, now):
    """(version, path inside the version) of a request, e.g. ('v2', '/upload')."""
    first, _, rest = path.lstrip("/").partition("/")
    if re.match(r"^v\d+$", first, re.IGNORECASE):
        version, inner = first.lower(), "/" + rest
    else:
        asked = headers.get("accept-version") or headers.get("x-api-version")
        if asked:
            version = parse_version(asked)
            if version is None:
                raise ApiError("invalid_request", f"API version {asked!r} is not a version (use v1, v2, …).", field="Accept-Version")
        else:
            version = table["default_version"]
        inner = path if path.startswith("/") else "/" + path
    if version not in supported_versions(table, now):
        raise _unsupported(version, table, now)
    return version, inner.rstrip("/") or "/"


def _pattern(template):
    parts = []
    for segment in template.strip("/").split("/"):
        m = re.fullmatch(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}", segment)
        parts.append(f"(?P<{m.group(1)}>[^/]+)" if m else re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


@dataclass
class Match:
    key: str
    route: dict
    params: dict


def match(table, version, inner, method):
    """The route of `METHOD /version/inner`; 404 `route_not_found` / 405 `method_not_allowed`."""
    path = f"/{version}{inner if inner != '/' else ''}"
    allowed = []
    for key, route in table["routes"].items():
        m = _pattern(key).match(path)
        if not m:
            continue
        if route["method"] == method:
            return Match(key, route, m.groupdict())
        allowed.append(route["method"])
    if allowed:
        error = ApiError("method_not_allowed", f"{path} accepts {', '.join(sorted(set(allowed)))}, not {method}.", allowed=sorted(set(allowed)))
        error.headers["allow"] = ", ".join(sorted(set(allowed)))
        raise error
    raise ApiError("route_not_found", f"No route {method} {path}.", path=path)


def deprecation_headers(table, version, route_key):
    """The headers a response in `version` carries: always `X-API-Version`; for a deprecated
    version also `Deprecation`, `Sunset` and the successor's `Link`."""
    headers = {"x-api-version": version}
    info = table.get("versions", {}).get(version, {})
    if info.get("status") != "deprecated":
        return headers
    deprecated = _day(info.get("deprecated_at"))
    if deprecated:
        headers["deprecation"] = f"@{calendar.timegm(deprecated.timetuple())}"
    sunset = _day(info.get("sunset_at"))
    if sunset:
        headers["sunset"] = format_datetime(datetime.combine(sunset, time.min, tzinfo=timezone.utc), usegmt=True)
    successor = successor_of(table, version)
    if successor:
        target = "/" + successor + route_key[len(version) + 1:]
        if target in table["routes"]:
            headers["link"] = f'<{target}>; rel="successor-version"'
    return headers


def successor_of(table, version):
    later = [v for v, info in table.get("versions", {}).items() if int(v[1:]) > int(version[1:]) and info.get("status") == "current"]
    return min(later, key=lambda v: int(v[1:])) if later else None


def _add_months(day, months):
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def policy_problems(table):
    """Versions whose dates break the deprecation policy (the same rule `qw validate` applies)."""
    policy = table.get("policy", {})
    notice = int(policy.get("deprecation_notice_months", 6))
    support = int(policy.get("support_months", 12))
    problems = []
    for version, info in table.get("versions", {}).items():
        if info.get("status") != "deprecated":
            continue
        deprecated, sunset = _day(info.get("deprecated_at")), _day(info.get("sunset_at"))
        if not deprecated or not sunset:
            problems.append(f"{version} is deprecated without deprecated_at and sunset_at")
            continue
        if sunset < _add_months(deprecated, notice):
            problems.append(f"{version}: sunset {sunset} is less than {notice} months after its deprecation on {deprecated}")
        successor = successor_of(table, version)
        released = _day(table["versions"][successor].get("released_at")) if successor else None
        if released and sunset < _add_months(released, support):
            problems.append(f"{version}: sunset {sunset} is less than {support} months after {successor} was released on {released}")
    return problems


def scopes_for(labels, access):
    """A user's API scopes from their labels: the union of `label_scopes` of every label they
    carry that the table names, or `default_scopes` when they carry none of those. Labels are
    set only by the server (Users API), so users cannot grant themselves scopes."""
    mapping = access.get("label_scopes", {})
    chosen = [label for label in labels if label in mapping]
    if not chosen:
        return sorted(set(access.get("default_scopes", [])))
    return sorted({scope for label in chosen for scope in mapping[label]})


def missing_scopes(route, scopes):
    return [s for s in route.get("required_scopes", []) if s not in scopes]
