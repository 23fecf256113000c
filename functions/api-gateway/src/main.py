"""api-gateway: The versioned public API: routes /vN/operation to the function serving it, checks the caller's JWT and scopes, and answers job and credit queries itself.

Reached as a function domain (on the emulator `/fn/api-gateway/v1/upload`). For each request:

1. the version (path, else `Accept-Version` / `X-API-Version`, else `default_version`) and the
   route of `routes.json` (404 `unsupported_api_version` / `route_not_found`, 405);
2. the caller's JWT, verified by Appwrite, and the route's `required_scopes` against the scopes
   the user's labels give (401 `unauthorized`, 403 `forbidden_scope`);
3. the route's function runs: `api-gateway` routes here, the others through the Functions API
   (a synchronous execution carrying the request in the envelope of `shared/envelope.py`), whose
   status, headers and body come back unchanged;
4. the answer gets `X-API-Version` and, for a deprecated version, `Deprecation`, `Sunset` and
   `Link`; and the request is recorded in `api_requests` (version, route, status, user,
   duration) for usage metrics.
"""

import json
import time
from dataclasses import dataclass, field

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from . import access, queries, routing
from .shared import envelope
from .shared.config import Config
from .shared.store import API_REQUESTS, Store
from .shared.utils import ApiError, appwrite_client, entrypoint, iso, log, server_now

TABLE = routing.load()
SELF = "api-gateway"
REQUIRED = ("DATABASE_ID", "DEFAULT_USER_CREDITS")
# Response headers never copied back from a forwarded function.
HOP_BY_HOP = {"connection", "content-length", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "x-appwrite-execution-id"}


@dataclass
class Reply:
    status: int
    body: str
    headers: dict = field(default_factory=lambda: {"content-type": "application/json"})


def json_reply(body, status=200):
    return Reply(status, json.dumps(body, separators=(",", ":"), default=str))


def forward(functions, route, incoming_request, *, version, route_key, caller):
    """Runs the route's function synchronously with the request in an envelope."""
    req = incoming_request
    body, headers = envelope.wrap(
        api_version=version,
        route=route_key,
        user_id=caller.user_id,
        scopes=caller.scopes,
        method=req.method,
        path=req.path,
        query=req.query or {},
        headers=req.headers or {},
        body=req.body_binary or b"",
    )
    path = req.path + ("?" + req.query_string if req.query_string else "")
    try:
        execution = functions.create_execution(
            function_id=route["function"], body=body, xasync=False, path=path[:2048], method=ExecutionMethod(req.method), headers=headers
        )
    except AppwriteException as e:
        raise ApiError("upstream_error", f"{route['function']} could not be run ({e.type or e.code}).", status=502 if e.code != 408 else 504) from None
    status = int(execution.responsestatuscode)
    if status >= 500 and not execution.responsebody:
        raise ApiError("upstream_error", f"{route['function']} failed (status {status}).", execution_id=execution.id)
    out = {h.name.lower(): h.value for h in execution.responseheaders if h.name.lower() not in HOP_BY_HOP}
    out.setdefault("content-type", "application/json")
    return Reply(status, execution.responsebody, out)


def record(store, context, *, now, version, route_key, method, status, user_id, function, deprecated, started):
    """One `api_requests` row; a failure to record never fails the request."""
    try:
        store.create(
            API_REQUESTS,
            {
                "api_version": (version or "none")[:8],
                "route": (route_key or "")[:255] or None,
                "method": method[:8],
                "status_code": status,
                "user_id": user_id or None,
                "function": function,
                "deprecated": deprecated,
                "duration_ms": round((time.monotonic() - started) * 1000, 3),
                "created_at": iso(now),
            },
        )
    except AppwriteException as e:
        log(context, "metrics_not_recorded", level="warning", type=e.type, message=str(e))


def handle(context):
    started = time.monotonic()
    config = Config().require(*REQUIRED)
    client = appwrite_client(context, config)
    store = Store(client, config.database_id)
    now = server_now(client, context)
    req = context.req
    headers = {k.lower(): v for k, v in (req.headers or {}).items()}
    version, route_key, function, caller = None, None, None, None
    try:
        version, inner = routing.resolve_version(req.path, headers, TABLE, now)
        matched = routing.match(TABLE, version, inner, req.method)
        route_key, function = matched.key, matched.route["function"]
        caller = access.identify(config, headers, TABLE.get("access", {}))
        missing = routing.missing_scopes(matched.route, caller.scopes)
        if missing:
            raise ApiError(
                "forbidden_scope",
                f"{req.method} {route_key} needs the scope(s) {', '.join(missing)}.",
                required_scopes=matched.route["required_scopes"],
                missing_scopes=missing,
            )
        if function == SELF:
            body = queries.answer(route_key, matched.params, req.query or {}, store=store, config=config, user_id=caller.user_id, now=now)
            reply = json_reply(body)
        else:
            reply = forward(Functions(client), matched.route, req, version=version, route_key=route_key, caller=caller)
    except ApiError as e:
        if version is None:
            version = routing.parse_version(req.path.lstrip("/").split("/", 1)[0]) or routing.parse_version(headers.get("accept-version") or headers.get("x-api-version"))
        reply = json_reply(e.body(), e.status)
        reply.headers.update(e.headers)
        log(context, "request_refused", level="warning" if e.status < 500 else "error", code=e.code, status=e.status, path=req.path, method=req.method)
    if version and version in TABLE.get("versions", {}):
        reply.headers.update(routing.deprecation_headers(TABLE, version, route_key or f"/{version}"))
    deprecated = TABLE.get("versions", {}).get(version or "", {}).get("status") == "deprecated"
    record(
        store, context, now=now, version=version, route_key=route_key, method=req.method, status=reply.status,
        user_id=caller.user_id if caller else None, function=function, deprecated=deprecated, started=started,
    )
    log(context, "request", method=req.method, path=req.path, api_version=version, route=route_key, status=reply.status, user_id=caller.user_id if caller else None)
    return context.res.send(reply.body, reply.status, reply.headers)


main = entrypoint(handle)
