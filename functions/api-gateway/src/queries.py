"""The routes api-gateway answers itself (`function: api-gateway` in routes.json): the caller's
jobs and credits. Reads go through the gateway's key and are filtered by the caller's ID."""

from appwrite.query import Query

from .shared.jobs import public_job
from .shared.ledger import ensure_account
from .shared.store import CREDITS, JOBS
from .shared.utils import ApiError

MAX_LIMIT = 100


def jobs(store, user_id, query):
    try:
        limit = int(query.get("limit", "25"))
    except ValueError:
        raise ApiError("invalid_request", "limit must be a whole number.", field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError("invalid_request", f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    queries = [Query.equal("user_id", [user_id]), Query.order_desc("created_at"), Query.order_desc("$sequence"), Query.limit(limit)]
    status = query.get("status")
    if status:
        queries.insert(1, Query.equal("status", [status]))
    rows = store.list(JOBS, queries)
    return {"jobs": [public_job(r) for r in rows], "count": len(rows)}


def job(store, user_id, job_id):
    row = store.get(JOBS, job_id)
    # Another user's job looks like a missing one.
    if row is None or row.get("user_id") != user_id:
        raise ApiError("job_not_found", f"No job {job_id}.", job_id=job_id)
    return {"job": public_job(row)}


def credits(store, config, user_id, now):
    account = ensure_account(store, user_id, config.default_user_credits, now)
    return {
        "user_id": user_id,
        "credits": account["credits"],
        "total_transcriptions": account.get("total_transcriptions") or 0,
        "total_minutes_transcribed": account.get("total_minutes_transcribed") or 0,
        "total_credits_spent": account.get("total_credits_spent") or 0,
        "last_transcription_at": account.get("last_transcription_at"),
    }


def answer(route_key, params, query, *, store, config, user_id, now):
    """The body of a local route, by the operation its path names."""
    operation = route_key.split("/", 2)[2]
    if operation == "jobs":
        return jobs(store, user_id, query)
    if operation == "jobs/{id}":
        return job(store, user_id, params["id"])
    if operation == "credits":
        return credits(store, config, user_id, now)
    raise ApiError("route_not_found", f"api-gateway serves no operation {operation}.")
