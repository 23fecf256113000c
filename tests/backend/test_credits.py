"""Credits are charged exactly once, never below zero, and every charge is logged: refusals,
20 concurrent uploads against a balance that covers 10, and transcribe run again on a job."""

import json
import time
from decimal import Decimal

from appwrite.exception import AppwriteException

import speech
from conftest import parallel, record_timing
from shared.ledger import account_findings
from test_upload_v1 import cost_of


def D(x):
    return Decimal(str(x))


def test_insufficient_credits_refused_nothing_stored_nothing_charged(backend, spoken):
    user = backend.new_user(credits=0.0001)  # a 3 s clip costs ~0.0003
    files_before = {f.id for f in backend.files()}
    logs_before = backend.logs_of(user)
    for path in ("/v1/upload",):
        r = backend.upload_v1(user, spoken[0].read_bytes(), path=path)
        assert r.status_code == 402, r.text
        err = r.json()["error"]
        assert err["code"] == "insufficient_credits" and err["available"] == 0.0001 and err["required"] > 0.0001
    assert backend.jobs_of(user) == []
    assert {f.id for f in backend.files()} == files_before
    assert backend.account(user)["credits"] == 0.0001 and backend.logs_of(user) == logs_before
    # v2 refuses the same way; the user's own upload stays theirs, no job, no charge.
    from test_upload_v2 import upload_to_storage

    file_id = upload_to_storage(user, spoken[0], "weather.wav")
    r = backend.call("POST", "/v2/upload", user, json={"fileId": file_id})
    assert r.status_code == 402 and r.json()["error"]["code"] == "insufficient_credits"
    assert backend.jobs_of(user) == [] and backend.account(user)["credits"] == 0.0001 and backend.logs_of(user) == logs_before


def test_twenty_concurrent_uploads_against_credits_for_ten(backend, spoken):
    wav = spoken[0].read_bytes()
    seconds = speech.duration(spoken[0])
    cost = cost_of(seconds)
    budget = cost * 10
    user = backend.new_user(credits=float(budget))
    started = time.time()
    responses = parallel(20, lambda i: backend.upload_v1(user, wav, name=f"take{i}.wav"))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 402}, [r.text for r in responses if r.status_code not in (201, 402)]
    accepted = [r.json()["job"]["id"] for r in responses if r.status_code == 201]
    jobs = backend.wait_jobs(user, count=len(accepted))
    record_timing(f"20 concurrent v1 uploads → all {len(jobs)} jobs finished", time.time() - started)
    assert sorted(j["$id"] for j in jobs) == sorted(accepted) and len(accepted) >= 10

    account = backend.account(user)
    logs = backend.logs_of(user)
    charges = [l for l in logs if l["action"] == "transcription_charge"]
    completed = [j for j in jobs if j["status"] == "completed"]
    failed = [j for j in jobs if j["status"] == "failed"]
    assert len(charges) == len(completed) <= 10 and len(completed) >= 1
    assert all(j["error_message"].startswith("insufficient_credits") for j in failed)
    assert D(account["credits"]) >= 0
    spent = sum((D(l["amount"]) for l in charges), Decimal(0))
    assert spent == budget - D(account["credits"]) == D(account["total_credits_spent"])
    assert sorted(l["job_id"] for l in charges) == sorted(j["$id"] for j in completed)
    assert all(D(l["amount"]) == D(j["actual_cost"]) for l in charges for j in completed if j["$id"] == l["job_id"])
    assert account_findings(account, logs) == []  # the chain credits_before → credits_after holds
    # Credits covered exactly ten of these equal clips.
    assert len(completed) == 10 and D(account["credits"]) == 0


def test_transcribe_run_again_charges_once(backend, spoken):
    user = backend.new_user()
    job = backend.upload_v1(user, spoken[2].read_bytes()).json()["job"]
    done = backend.wait_job(job["id"])
    assert done["status"] == "completed"
    balance = backend.account(user)["credits"]

    def run(body):
        e = backend.functions.create_execution(function_id="transcribe", body=json.dumps(body), xasync=False, headers={"content-type": "application/json"})
        assert e.responsestatuscode == 200, (e.responsebody, e.errors)
        return json.loads(e.responsebody)

    # Again on the completed job: skipped.
    assert run({"jobId": job["id"]}) == {"job_id": job["id"], "status": "completed", "charged": False, "skipped": True}
    # Again after the job was put back to uploaded (a restored backup, a replayed event): it is
    # transcribed again, but its charge exists, so nothing is charged and the job completes.
    backend.tables.update_row("main-dev", "transcription_jobs", job["id"], {"status": "uploaded", "completed_at": None})
    again = run({"$id": job["id"]})
    assert again["charged"] is False and again["result"] == "already_charged" and again["status"] == "completed"
    assert backend.row("transcription_jobs", job["id"])["status"] == "completed"
    assert backend.account(user)["credits"] == balance
    assert len([l for l in backend.logs_of(user) if l["action"] == "transcription_charge"]) == 1
    assert account_findings(backend.account(user), backend.logs_of(user)) == []


def test_two_runs_racing_on_one_job_charge_once(backend, spoken):
    """The creation event starts one run; a second, manual one races it."""
    user = backend.new_user()
    r = backend.upload_v1(user, spoken[1].read_bytes())
    job_id = r.json()["job"]["id"]
    e = backend.functions.create_execution(function_id="transcribe", body=json.dumps({"jobId": job_id}), xasync=True, headers={"content-type": "application/json"})
    done = backend.wait_job(job_id)
    assert done["status"] == "completed"
    deadline = time.time() + 60
    while backend.functions.get_execution(function_id="transcribe", execution_id=e.id).status.value not in ("completed", "failed"):
        assert time.time() < deadline
        time.sleep(0.2)
    charges = [l for l in backend.logs_of(user) if l["action"] == "transcription_charge"]
    assert len(charges) == 1 and charges[0]["job_id"] == job_id
    assert D(backend.account(user)["credits"]) == Decimal(50) - D(done["actual_cost"])


def test_a_job_that_cannot_be_transcribed_fails_and_charges_nothing(backend, spoken):
    """The audio vanished between upload and transcription: the job fails with the reason."""
    user = backend.new_user()
    r = backend.upload_v1(user, spoken[0].read_bytes())
    job = r.json()["job"]
    backend.wait_job(job["id"])
    # A second job pointing at a deleted file, created as the upload function would.
    backend.storage.delete_file(bucket_id="audio", file_id=job["file_id"])
    row = backend.row("transcription_jobs", job["id"])
    fields = {k: row[k] for k in ("user_id", "file_name", "file_size", "mime_type", "duration_seconds", "estimated_cost", "api_version", "created_at")}
    ghost = backend.tables.create_row("main-dev", "transcription_jobs", "ghostjob" + job["id"][:8], {**fields, "file_id": "missingfile", "status": "uploaded"})
    failed = backend.wait_job(ghost.id)
    assert failed["status"] == "failed" and failed["error_message"].startswith("file_unavailable")
    assert failed["transcription_text"] is None and failed["actual_cost"] is None
    assert len([l for l in backend.logs_of(user) if l["action"] == "transcription_charge"]) == 1
    try:
        backend.tables.get_row("main-dev", "usage_logs", ghost.id)
        raise AssertionError("a failed job has no charge")
    except AppwriteException as e:
        assert e.code == 404
