"""The internal contract between `api-gateway` and the functions it forwards to.

An Appwrite execution carries a *string* body (`POST /functions/{id}/executions`, `body` up to
10 MiB), so the gateway cannot hand raw audio bytes over as they came. It sends one JSON
envelope instead, marked by the header `x-qw-envelope: 1`:

    {
      "qw_envelope": 1,
      "api_version": "v1",                 # the version the gateway resolved
      "route": "/v1/upload",               # the routes.json key that matched
      "caller": {"user_id": "…", "scopes": ["transcriptions.write", …]},   # verified by the gateway
      "request": {
        "method": "POST", "path": "/v1/upload", "query": {"a": "b"},
        "headers": {"content-type": "multipart/form-data; boundary=…", …},   # credentials removed
        "body_base64": "…"                 # the client's body, byte for byte
      }
    }

The forwarded function trusts `caller` because its `execute` list is empty: only API keys (the
gateway's own execution key) can run it. The function's response comes back unchanged (status,
headers, body); it must be text (JSON here), since an execution's `responseBody` is a string.
Base64 costs a third more: the largest body the gateway can forward is `MAX_FORWARDED_BODY`.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field

from .utils import ApiError, header

VERSION = 1
MARKER = "x-qw-envelope"
# The execution body limit (10 MiB of text) minus room for the envelope's JSON around the body.
EXECUTION_BODY_LIMIT = 10 * 1024 * 1024
MAX_FORWARDED_BODY = (EXECUTION_BODY_LIMIT - 64 * 1024) // 4 * 3
# Never forwarded: the caller's credentials (the verified identity travels in `caller`) and
# hop-by-hop headers.
DROPPED_HEADERS = {
    "authorization", "cookie", "x-appwrite-jwt", "x-appwrite-key", "x-appwrite-session",
    "connection", "content-length", "host", "keep-alive", "transfer-encoding", "te", "upgrade",
}


@dataclass
class Incoming:
    """One API request as the serving function sees it, through the gateway or directly."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    user_id: str
    scopes: list = field(default_factory=list)
    api_version: str = ""
    route: str = ""
    via_gateway: bool = False

    def json(self):
        """The body as a JSON object (400 `invalid_request` otherwise)."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError("invalid_request", "The request body must be a JSON object.") from None
        if not isinstance(value, dict):
            raise ApiError("invalid_request", "The request body must be a JSON object.")
        return value

    def require_user(self):
        if not self.user_id:
            raise ApiError("unauthorized", "This operation needs a signed-in user; call it through the API gateway with a JWT.")
        return self.user_id


def forwarded_headers(headers):
    return {k.lower(): v for k, v in headers.items() if k.lower() not in DROPPED_HEADERS and not k.lower().startswith("x-appwrite-")}


def wrap(*, api_version, route, user_id, scopes, method, path, query, headers, body: bytes):
    """The envelope (a JSON string) and the execution headers that go with it."""
    if len(body) > MAX_FORWARDED_BODY:
        raise ApiError(
            "payload_too_large",
            f"The request body is {len(body)} bytes; at most {MAX_FORWARDED_BODY} bytes can be forwarded to a function. "
            "Upload large audio straight to Storage and use /v2/upload.",
            limit_bytes=MAX_FORWARDED_BODY,
        )
    envelope = {
        "qw_envelope": VERSION,
        "api_version": api_version,
        "route": route,
        "caller": {"user_id": user_id, "scopes": list(scopes)},
        "request": {
            "method": method,
            "path": path,
            "query": dict(query),
            "headers": forwarded_headers(headers),
            "body_base64": base64.b64encode(body).decode("ascii"),
        },
    }
    return json.dumps(envelope, separators=(",", ":")), {MARKER: str(VERSION), "content-type": "application/json"}


def unwrap(context, default_version=""):
    """The request of this execution: the gateway's envelope when marked, else the raw request
    (a direct execution; its user is the one Appwrite names in `x-appwrite-user-id`)."""
    req = context.req
    if header(context, MARKER) != str(VERSION):
        return Incoming(
            method=req.method,
            path=req.path,
            query=dict(req.query or {}),
            headers=dict(req.headers or {}),
            body=req.body_binary or b"",
            user_id=header(context, "x-appwrite-user-id"),
            api_version=default_version,
        )
    try:
        envelope = json.loads((req.body_binary or b"").decode("utf-8"))
        request = envelope["request"]
        caller = envelope.get("caller") or {}
        body = base64.b64decode(request.get("body_base64", ""), validate=True)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise ApiError("invalid_request", "The gateway envelope is malformed.") from None
    return Incoming(
        method=request.get("method", "POST"),
        path=request.get("path", "/"),
        query=dict(request.get("query") or {}),
        headers={k.lower(): v for k, v in (request.get("headers") or {}).items()},
        body=body,
        user_id=caller.get("user_id") or "",
        scopes=list(caller.get("scopes") or []),
        api_version=envelope.get("api_version") or default_version,
        route=envelope.get("route", ""),
        via_gateway=True,
    )


def posted(context, api_version, action):
    """The request of a function that takes a user's POST (`action`, e.g. "Upload", names it in
    the refusal of other methods), and the user it is for."""
    incoming = unwrap(context, api_version)
    if incoming.method != "POST":
        raise ApiError("method_not_allowed", f"{action} with POST.")
    return incoming, incoming.require_user()
