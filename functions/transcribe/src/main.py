"""transcribe: Runs when a transcription job is created: sends the audio to Whisper, stores the text and charges the credits once, with a usage log entry.

Triggered by `databases.*.collections.transcription_jobs.documents.*.create` (the body is the
new job), or executed with `{"jobId": "…"}` to run a job by hand. The job moves
uploaded → processing → completed | failed:

1. claim: uploaded → processing, compare-and-set, so two runs of one job never both proceed;
   a job in any other state is left alone (running again is harmless);
2. measure the stored audio (the actual cost comes from the audio, not the estimate), check the
   balance still covers it, and send it to Whisper at OPENAI_BASE_URL;
3. charge: one transaction lowers the balance, writes the usage log whose ID is the job's ID and
   completes the job with its transcript; a conflicting writer makes it retry, an existing log
   makes it a no-op, a balance that no longer covers the cost fails the job instead.

Any failure records its reason on the job and charges nothing.
"""

from appwrite.exception import AppwriteException
from appwrite.services.storage import Storage

from .shared import audio
from .shared.config import Config
from .shared.ledger import charge, estimate_cost, move_job
from .shared.store import CREDITS, Store
from .shared.utils import ApiError, appwrite_client, entrypoint, iso, json_response, log, money, server_now
from .whisper import TranscriptionError, transcribe

REQUIRED = ("AUDIO_BUCKET_ID", "COST_PER_MINUTE", "DATABASE_ID", "OPENAI_API_KEY", "OPENAI_BASE_URL", "WHISPER_MODEL")
MAX_ERROR = 2000


def job_id_of(body):
    """The job of this run: the event's row (`$id`) or `jobId` of a manual execution."""
    if isinstance(body, dict):
        for key in ("jobId", "$id"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    raise ApiError("invalid_request", "Run transcribe with a job: the job row's create event, or {\"jobId\": \"…\"}.")


class JobFailed(Exception):
    """The job cannot complete; the message is stored on it."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def fail(store, job_id, error, now):
    moved, _ = move_job(
        store,
        job_id,
        expect={"processing"},
        patch={"status": "failed", "error_message": f"{error.code}: {error}"[:MAX_ERROR], "completed_at": iso(now)},
    )
    return moved


def transcript_of(config, store, storage, job, context):
    """(text, measured seconds, cost) of a claimed job; JobFailed when it cannot be done."""
    try:
        data = storage.get_file_download(bucket_id=config.audio_bucket_id, file_id=job["file_id"])
    except AppwriteException as e:
        raise JobFailed("file_unavailable", f"the audio file {job['file_id']} could not be read ({e.type or e.code})") from None
    try:
        info = audio.inspect(data)
    except ApiError as e:
        raise JobFailed(e.code, e.message) from None
    cost = estimate_cost(info.duration_seconds, config.cost_per_minute)
    account = store.get(CREDITS, job["user_id"])
    available = money(account["credits"]) if account else money(0)
    if available < cost:
        raise JobFailed("insufficient_credits", f"the audio costs {cost} credits; the balance is {available}")
    log(context, "transcription_started", job_id=job["$id"], format=info.format, duration_seconds=info.duration_seconds, model=config.whisper_model)
    try:
        text = transcribe(
            config.openai_base_url,
            config.openai_api_key,
            config.whisper_model,
            data=data,
            file_name=job.get("file_name") or f"audio.{info.extension}",
            mime_type=info.mime_type,
            language=job.get("language"),
            prompt=job.get("prompt"),
        )
    except TranscriptionError as e:
        raise JobFailed("transcription_failed", str(e)) from None
    return text, info.duration_seconds, cost


def handle(context):
    config = Config().require(*REQUIRED)
    body = context.req.body if isinstance(context.req.body, dict) else {}
    job_id = job_id_of(body)
    client = appwrite_client(context, config)
    store = Store(client, config.database_id)
    storage = Storage(client)

    now = server_now(client, context)
    claimed, job = move_job(store, job_id, expect={"uploaded"}, patch={"status": "processing", "started_at": iso(now)})
    if job is None:
        raise ApiError("job_not_found", f"No transcription job {job_id}.", job_id=job_id)
    if not claimed:
        log(context, "job_skipped", job_id=job_id, status=job.get("status"))
        return json_response(context, {"job_id": job_id, "status": job.get("status"), "charged": False, "skipped": True})

    try:
        text, seconds, cost = transcript_of(config, store, storage, job, context)
        outcome = charge(store, job_id, cost=cost, duration_seconds=seconds, transcription_text=text, now=server_now(client, context))
        if outcome.result == "insufficient_credits":
            raise JobFailed("insufficient_credits", f"the audio costs {outcome.cost} credits; the balance is {outcome.credits_before}")
    except JobFailed as e:
        failed = fail(store, job_id, e, server_now(client, context))
        log(context, "job_failed", level="warning", job_id=job_id, code=e.code, reason=str(e), recorded=failed)
        return json_response(context, {"job_id": job_id, "status": "failed", "charged": False, "error": {"code": e.code, "message": str(e)}})
    except Exception as e:
        # Unexpected: the job must not stay in processing because of us.
        fail(store, job_id, JobFailed("internal_error", f"transcription stopped: {e.__class__.__name__}"), server_now(client, context))
        raise

    charged = outcome.result == "charged"
    log(
        context, "job_finished", job_id=job_id, result=outcome.result, charged=charged,
        cost=float(cost), credits_before=float(outcome.credits_before) if charged else None,
        credits_after=float(outcome.credits_after) if charged else None, transaction_retries=store.retries,
    )
    status = "completed" if outcome.result in ("charged", "already_charged") else (outcome.job or {}).get("status")
    return json_response(context, {"job_id": job_id, "status": status, "charged": charged, "cost": float(cost), "result": outcome.result})


main = entrypoint(handle)
