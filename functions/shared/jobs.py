"""Transcription jobs: the estimate and credit check before a job exists, the job row itself, and
the public shape the API answers with."""

import re

from .ledger import ensure_account, estimate_cost, owner_read
from .store import JOBS
from .utils import ApiError, iso, money, money_out

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_PROMPT = 1000
MAX_FILE_NAME = 255

PUBLIC_FIELDS = (
    "status", "file_id", "file_name", "file_size", "mime_type", "duration_seconds", "estimated_cost",
    "actual_cost", "language", "prompt", "api_version", "transcription_text", "error_message",
    "created_at", "started_at", "completed_at",
)


def public_job(job):
    """A job as the API shows it to its owner."""
    out = {"id": job["$id"]}
    out.update({k: job.get(k) for k in PUBLIC_FIELDS})
    return out


def options(body):
    """`language` (ISO 639-1 such as `en`, optional) and `prompt` (≤ 1000 characters) of a v2 request."""
    language = body.get("language")
    prompt = body.get("prompt")
    if language is not None and (not isinstance(language, str) or not LANGUAGE.match(language)):
        raise ApiError("invalid_request", "language must be an ISO-639-1 code such as \"en\".", field="language")
    if prompt is not None and (not isinstance(prompt, str) or len(prompt) > MAX_PROMPT):
        raise ApiError("invalid_request", f"prompt must be text of at most {MAX_PROMPT} characters.", field="prompt")
    return language or None, prompt or None


def check_size(size, config):
    if size > config.max_file_size_bytes:
        raise ApiError(
            "file_too_large",
            f"The file is {size} bytes; the limit is {config.max_file_size_mb} MB.",
            size_bytes=size,
            limit_bytes=config.max_file_size_bytes,
        )
    if size == 0:
        raise ApiError("invalid_request", "The file is empty.")


def quote(store, config, user_id, info, now):
    """The estimate for `info`; 402 `insufficient_credits` when the balance does not cover it.
    Creates the user's credits on first use."""
    account = ensure_account(store, user_id, config.default_user_credits, now)
    cost = estimate_cost(info.duration_seconds, config.cost_per_minute)
    available = money(account["credits"])
    if available < cost:
        raise ApiError(
            "insufficient_credits",
            f"This audio ({info.duration_seconds:.2f} s) costs {cost} credits; the balance is {available}.",
            required=float(cost),
            available=float(available),
        )
    return {
        "duration_seconds": round(info.duration_seconds, 3),
        "cost": float(cost),
        "cost_per_minute": float(config.cost_per_minute),
        "credits_available": float(available),
    }


def safe_file_name(name, extension):
    """The client's file name (its last path segment) with the extension of the detected
    format: the bucket allows only audio extensions, and the content decides the format."""
    base = re.split(r"[/\\]", (name or "").strip())[-1]
    base = re.sub(r"[\x00-\x1f]", "_", base).strip(". ")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[: MAX_FILE_NAME - len(extension) - 1] or "audio"
    return f"{stem}.{extension}"


def create_job(store, *, user_id, file_id, file_name, file_size, info, cost, language, prompt, api_version, now):
    """The job row, status `uploaded`; its creation event starts `transcribe`."""
    return store.create(
        JOBS,
        {
            "user_id": user_id,
            "file_id": file_id,
            "file_name": file_name,
            "file_size": file_size,
            "mime_type": info.mime_type,
            "duration_seconds": float(info.duration_seconds),
            "status": "uploaded",
            "estimated_cost": money_out(cost),
            "language": language,
            "prompt": prompt,
            "api_version": api_version,
            "created_at": iso(now),
        },
        permissions=owner_read(user_id),
    )
