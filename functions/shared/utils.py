"""What every QuixoticWhisper function shares: the entry wrapper, JSON errors with stable codes,
structured logs, the Appwrite client of the execution, the server's notion of "now", money
arithmetic and row helpers. (The name is the one the original design gives this module.)
"""

import asyncio
import json
import traceback
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.query import Query

from .config import Config, ConfigError

# Stable error codes of the public API (documented in functions/README.md); clients branch on
# these, never on messages.
ERROR_CODES = {
    "invalid_request": 400,
    "unauthorized": 401,
    "insufficient_credits": 402,
    "forbidden_scope": 403,
    "route_not_found": 404,
    "unsupported_api_version": 404,
    "job_not_found": 404,
    "file_not_found": 404,
    "method_not_allowed": 405,
    "file_already_submitted": 409,
    "payload_too_large": 413,
    "file_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_audio": 422,
    "internal_error": 500,
    "configuration_error": 500,
    "upstream_error": 502,
}

MONEY = Decimal("0.000001")


class ApiError(Exception):
    """An error answered to the client as `{"error": {"code", "message", ...details}}`."""

    def __init__(self, code, message, status=None, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or ERROR_CODES.get(code, 400)
        self.details = details
        self.headers = {}

    def body(self):
        return {"error": {"code": self.code, "message": self.message, **self.details}}


def json_response(context, body, status=200, headers=None):
    """A JSON response (a fresh headers dict: the runtime's default argument is shared)."""
    return context.res.json(body, status, dict(headers or {}))


def error_response(context, error):
    return json_response(context, error.body(), error.status, error.headers)


def log(context, event, level="info", **fields):
    """One JSON object per line in the execution's logs (errors in its error stream)."""
    entry = {"level": level, "event": event, **fields}
    line = json.dumps(entry, default=str, separators=(",", ":"), sort_keys=False)
    if level == "error":
        context.error(line)
    else:
        context.log(line)


def header(context, name, default=""):
    """A request header, case-insensitively (the runtime lower-cases names)."""
    return (context.req.headers or {}).get(name.lower(), default)


def appwrite_client(context, config: Config) -> Client:
    """The Appwrite client of this execution: the platform's endpoint and project, and the
    short-lived key of `x-appwrite-key` that holds the function's scopes."""
    key = header(context, "x-appwrite-key")
    if not key:
        raise ApiError("configuration_error", "This execution carries no x-appwrite-key: the function needs scopes in its settings.")
    return Client().set_endpoint(config.endpoint).set_project(config.project_id).set_key(key)


def server_now(client: Client, context=None) -> datetime:
    """Now, as the Appwrite server sees it (`GET /health/time`, `localTime`).

    Retention, stuck-job thresholds and every stored timestamp use the server's clock rather
    than this process's, so they agree with the `$createdAt` the server stamps, and an
    emulator whose clock a test moved moves them too. Ephemeral keys always hold `health.read`.
    Falls back to this machine's clock (logged) when the call fails.
    """
    try:
        # The Python SDK has no Health service; the route is public REST all the same.
        answer = client.call("get", "/health/time", {"X-Appwrite-Project": client.get_config("project"), "content-type": "application/json"}, {})
        return datetime.fromtimestamp(int(answer["localTime"]), tz=timezone.utc)
    except (AppwriteException, ValueError, TypeError, KeyError) as e:
        if context is not None:
            log(context, "server_time_unavailable", level="warning", reason=str(e))
        return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Appwrite's datetime format (milliseconds, explicit UTC offset)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def parse_time(text):
    """A stored ISO 8601 datetime as an aware datetime (None for empty)."""
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def money(value) -> Decimal:
    """Credits as a Decimal with 6 places: balances, costs and logs add up exactly."""
    return Decimal(str(value)).quantize(MONEY, rounding=ROUND_HALF_UP)


def money_out(value) -> float:
    """A money value as stored (double attribute): the float nearest the 6-place decimal."""
    return float(money(value))


def record(row) -> dict:
    """A TablesDB row (SDK model or dict) as one plain dict: its data plus `$id`, `$createdAt`,
    `$updatedAt` and `$permissions`."""
    if isinstance(row, dict):
        return dict(row)
    out = dict(row.data or {})
    out.update({"$id": row.id, "$createdAt": row.createdat, "$updatedAt": row.updatedat, "$permissions": list(row.permissions)})
    return out


def each_row(tables, database_id, table_id, queries=(), page=100):
    """Every row matching `queries`, paged with cursors (stable under deletes of seen rows)."""
    cursor = None
    while True:
        q = list(queries) + [Query.limit(page)]
        if cursor:
            q.append(Query.cursor_after(cursor))
        rows = tables.list_rows(database_id=database_id, table_id=table_id, queries=q, total=False).rows
        for row in rows:
            yield record(row)
        if len(rows) < page:
            return
        cursor = rows[-1].id


def is_not_found(error: AppwriteException) -> bool:
    return getattr(error, "code", None) == 404


def is_conflict(error: AppwriteException) -> bool:
    return getattr(error, "code", None) == 409


def run_handler(handler, context):
    """Runs `handler(context)` and turns every failure into a JSON error response."""
    try:
        return handler(context)
    except ApiError as e:
        log(context, "request_refused", level="warning" if e.status < 500 else "error", code=e.code, status=e.status, message=e.message)
        return error_response(context, e)
    except ConfigError as e:
        log(context, "configuration_error", level="error", variable=e.name, message=str(e))
        return error_response(context, ApiError("configuration_error", str(e)))
    except AppwriteException as e:
        log(context, "appwrite_error", level="error", type=getattr(e, "type", None), code=getattr(e, "code", None), message=str(e), trace=traceback.format_exc())
        return error_response(context, ApiError("internal_error", f"A backend call failed ({getattr(e, 'type', None) or 'unknown'})."))
    except Exception as e:  # noqa: BLE001 - the last line of defence answers JSON, never a bare 500
        log(context, "unexpected_error", level="error", error=repr(e), trace=traceback.format_exc())
        return error_response(context, ApiError("internal_error", "An unexpected error occurred."))


def entrypoint(handler):
    """The runtime's `main`: runs the blocking handler on a worker thread, so one warm runtime
    serves several executions at once (the open-runtimes server awaits async mains)."""

    async def main(context):
        return await asyncio.to_thread(run_handler, handler, context)

    return main
