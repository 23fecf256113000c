"""cleanup-cron on its schedule, with the emulator's clock moved instead of waiting: stuck jobs
fail, jobs and audio older than RETENTION_DAYS (30 in every environment) go, nothing newer does,
and credit inconsistencies are reported in its logs and its response."""

import json
import time

from appwrite.id import ID
from appwrite.query import Query

from test_upload_v2 import upload_to_storage

DAY = 24 * 3600


def scheduled_runs(backend):
    return backend.executions("cleanup-cron", Query.equal("trigger", ["schedule"]))


def wait_for_run(backend, count, timeout=120):
    """The `count`-th scheduled execution, once finished."""
    deadline = time.time() + timeout
    while True:
        runs = scheduled_runs(backend)
        if len(runs) >= count and runs[count - 1].status.value in ("completed", "failed"):
            return runs[count - 1]
        assert time.time() < deadline, f"scheduled cleanup #{count} did not finish: {[(r.id, r.status) for r in runs]}"
        time.sleep(0.3)


def events(execution):
    out = []
    for line in (execution.logs + "\n" + execution.errors).splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def file_exists(backend, file_id):
    return file_id in {f.id for f in backend.storage.list_files(bucket_id="audio", queries=[Query.equal("$id", [file_id])]).files}


def job_exists(backend, job_id):
    return bool(backend.rows("transcription_jobs", Query.equal("$id", [job_id])))


def test_cleanup_on_schedule_with_the_clock_moved(backend, spoken):
    runs_before = len(scheduled_runs(backend))
    # Day 0: a finished job, a file no job uses, a job stuck in processing.
    old_user = backend.new_user()
    old_job = backend.upload_v1(old_user, spoken[0].read_bytes()).json()["job"]
    assert backend.wait_job(old_job["id"])["status"] == "completed"
    old_orphan = upload_to_storage(old_user, spoken[1], "never-submitted.wav")
    stamp = backend.now()
    stuck = backend.tables.create_row("main-dev", "transcription_jobs", ID.unique(), {
        "user_id": old_user.id, "file_id": ID.unique(), "file_name": "stuck.wav", "file_size": 1, "duration_seconds": 1.0,
        "status": "processing", "estimated_cost": 0.0001, "api_version": "v1", "created_at": stamp, "started_at": stamp,
    }).id

    # Day 20: past STUCK_JOB_MINUTES, within RETENTION_DAYS.
    backend.clock(advance=20 * DAY)
    first = wait_for_run(backend, runs_before + 1)
    assert first.status.value == "completed", first.errors
    stuck_row = backend.row("transcription_jobs", stuck)
    assert stuck_row["status"] == "failed" and stuck_row["error_message"].startswith("stuck")
    assert job_exists(backend, old_job["id"]) and file_exists(backend, old_job["file_id"]) and file_exists(backend, old_orphan)
    finished = [e for e in events(first) if e["event"] == "cleanup_finished"]
    assert finished and finished[0]["failed_stuck_jobs"] >= 1 and finished[0]["deleted_jobs"] == 0

    # Day 20: new work, and a balance someone edited by hand.
    new_user = backend.new_user()
    new_job = backend.upload_v1(new_user, spoken[2].read_bytes()).json()["job"]
    assert backend.wait_job(new_job["id"])["status"] == "completed"
    new_orphan = upload_to_storage(new_user, spoken[3], "later.wav")
    tampered = backend.new_user(credits=5.0)
    backend.tables.update_row("main-dev", "user_credits", tampered.id, {"credits": 6.0})

    # Day 31: day 0 is past retention, day 20 is not.
    backend.clock(advance=11 * DAY)
    second = wait_for_run(backend, runs_before + 2)
    assert second.status.value == "completed", second.errors
    for job_id in (old_job["id"], stuck):
        assert not job_exists(backend, job_id)
    assert not file_exists(backend, old_job["file_id"]) and not file_exists(backend, old_orphan)
    assert job_exists(backend, new_job["id"]) and file_exists(backend, new_job["file_id"]) and file_exists(backend, new_orphan)
    # Usage logs are the ledger: kept.
    assert [l["action"] for l in backend.logs_of(old_user)] == ["credit_grant", "transcription_charge"]
    logged = events(second)
    reported = [e for e in logged if e["event"] == "credit_inconsistency"]
    assert reported and {e["user_id"] for e in reported} == {tampered.id}
    assert {e["kind"] for e in reported} == {"balance_mismatch"} and all(e["level"] == "error" for e in reported)
    done = [e for e in logged if e["event"] == "cleanup_finished"][0]
    assert done["deleted_jobs"] >= 2 and done["inconsistencies"] == len(reported)

    # Run by hand, its response is the report.
    e = backend.functions.create_execution(function_id="cleanup-cron", xasync=False)
    report = json.loads(e.responsebody)
    assert e.responsestatuscode == 200 and report["deleted_jobs"] == [] and report["deleted_files"] == []
    assert report["now"].startswith(backend.now()[:13])  # the server's (moved) clock
    assert [(i["user_id"], i["kind"]) for i in report["inconsistencies"]] == [(tampered.id, "balance_mismatch")]
    assert report["inconsistency_count"] == 1 and report["accounts_checked"] >= 3
