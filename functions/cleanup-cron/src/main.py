"""cleanup-cron: Daily: deletes audio and jobs older than RETENTION_DAYS, fails jobs stuck in processing, and reports credit inconsistencies.

"Now" is the Appwrite server's clock (`GET /health/time`), not this process's: the cutoffs then
agree with the timestamps the server and the other functions stamped, and a test that moves the
emulator's clock (which also fires this schedule) moves the cleanup with it.

1. Jobs in `processing` whose `started_at` is older than STUCK_JOB_MINUTES become `failed`
   (compare-and-set: a transcription that finishes meanwhile wins, and is not charged twice).
2. Jobs whose `created_at` is older than RETENTION_DAYS are deleted with their audio file.
3. Audio files older than RETENTION_DAYS that no remaining job uses are deleted.
4. Every user's balance is checked against their usage logs (ledger.account_findings).
Usage logs are the ledger and are kept.
"""

from datetime import timedelta

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.storage import Storage

from .shared.config import Config
from .shared.ledger import account_findings, move_job, user_logs
from .shared.store import CREDITS, JOBS, Store
from .shared.utils import appwrite_client, entrypoint, is_not_found, iso, json_response, log, server_now

REQUIRED = ("AUDIO_BUCKET_ID", "DATABASE_ID", "RETENTION_DAYS", "STUCK_JOB_MINUTES")
REPORTED = 100


def fail_stuck(store, now, minutes, context):
    before = iso(now - timedelta(minutes=minutes))
    failed = []
    stuck = list(store.rows(JOBS, [Query.equal("status", ["processing"]), Query.less_than("started_at", before)]))
    for job in stuck:
        moved, _ = move_job(
            store,
            job["$id"],
            expect={"processing"},
            patch={
                "status": "failed",
                "error_message": f"stuck: still processing after {minutes} minutes",
                "completed_at": iso(now),
            },
        )
        if moved:
            failed.append(job["$id"])
            log(context, "stuck_job_failed", level="warning", job_id=job["$id"], user_id=job.get("user_id"), started_at=job.get("started_at"))
    return failed


def delete_file(storage, bucket_id, file_id):
    try:
        storage.delete_file(bucket_id=bucket_id, file_id=file_id)
        return True
    except AppwriteException as e:
        if is_not_found(e):
            return False
        raise


def delete_old_jobs(store, storage, bucket_id, cutoff, context):
    jobs, files = [], []
    # Collect first: deleting while paging with a cursor would skip rows.
    old = list(store.rows(JOBS, [Query.less_than("created_at", iso(cutoff))]))
    for job in old:
        if job.get("file_id") and delete_file(storage, bucket_id, job["file_id"]):
            files.append(job["file_id"])
        if store.delete(JOBS, job["$id"]):
            jobs.append(job["$id"])
        log(context, "old_job_deleted", job_id=job["$id"], file_id=job.get("file_id"), created_at=job.get("created_at"), status=job.get("status"))
    return jobs, files


def delete_orphan_files(store, storage, bucket_id, cutoff, context):
    deleted = []
    old_files, cursor = [], None
    while True:
        queries = [Query.less_than("$createdAt", iso(cutoff)), Query.limit(100)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        page = storage.list_files(bucket_id=bucket_id, queries=queries, total=False).files
        old_files.extend(page)
        if len(page) < 100:
            break
        cursor = page[-1].id
    for f in old_files:
        if store.list(JOBS, [Query.equal("file_id", [f.id]), Query.limit(1)]):
            continue  # a job younger than the file (a v2 upload submitted later) still needs it
        if delete_file(storage, bucket_id, f.id):
            deleted.append(f.id)
            log(context, "orphan_file_deleted", file_id=f.id, created_at=f.createdat)
    return deleted


def credit_findings(store, context):
    findings, accounts = [], 0
    for account in store.rows(CREDITS):
        accounts += 1
        for finding in account_findings(account, user_logs(store, account["user_id"])):
            findings.append(finding)
            log(context, "credit_inconsistency", level="error", **finding)
    return accounts, findings


def handle(context):
    config = Config().require(*REQUIRED)
    client = appwrite_client(context, config)
    store = Store(client, config.database_id)
    storage = Storage(client)
    now = server_now(client, context)
    cutoff = now - timedelta(days=config.retention_days)
    log(context, "cleanup_started", now=iso(now), cutoff=iso(cutoff), trigger=context.req.headers.get("x-appwrite-trigger"))

    stuck = fail_stuck(store, now, config.stuck_job_minutes, context)
    jobs, job_files = delete_old_jobs(store, storage, config.audio_bucket_id, cutoff, context)
    orphans = delete_orphan_files(store, storage, config.audio_bucket_id, cutoff, context)
    accounts, findings = credit_findings(store, context)

    report = {
        "now": iso(now),
        "cutoff": iso(cutoff),
        "failed_stuck_jobs": stuck,
        "deleted_jobs": jobs,
        "deleted_files": job_files + orphans,
        "accounts_checked": accounts,
        "inconsistencies": findings[:REPORTED],
        "inconsistency_count": len(findings),
    }
    log(
        context, "cleanup_finished", failed_stuck_jobs=len(stuck), deleted_jobs=len(jobs), deleted_files=len(job_files) + len(orphans),
        accounts_checked=accounts, inconsistencies=len(findings),
    )
    return json_response(context, report)


main = entrypoint(handle)
