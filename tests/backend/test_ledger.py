"""The functions' ledger code (functions/shared) driven directly against the emulator from many
threads at once, so transactions really conflict: balances never go negative, each job is
charged once, a new account is opened once, and the chain of usage logs stays whole."""

import threading
from datetime import datetime, timezone
from decimal import Decimal

from appwrite.id import ID

from shared import ledger
from shared.store import Store

DB = "main-dev"


def now():
    return datetime.now(timezone.utc)


def processing_job(backend, user, cost):
    stamp = backend.now()
    row = backend.tables.create_row(DB, "transcription_jobs", ID.unique(), {
        "user_id": user.id, "file_id": ID.unique(), "file_name": "x.wav", "file_size": 1, "duration_seconds": 60.0,
        "status": "processing", "estimated_cost": float(cost), "api_version": "v2", "created_at": stamp, "started_at": stamp,
    })
    return row.id


def together(n, fn):
    """Runs fn(i) on n threads released at the same moment; returns the results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_charges_never_overdraw_and_keep_the_chain(backend):
    cost = Decimal("0.01")
    user = backend.new_user(credits=0.07)
    jobs = [processing_job(backend, user, cost) for _ in range(12)]
    stores = [Store(backend.emulator.client(), DB) for _ in jobs]
    outcomes = together(len(jobs), lambda i: ledger.charge(stores[i], jobs[i], cost=cost, duration_seconds=60.0, transcription_text=f"take {i}", now=now()))
    results = sorted(o.result for o in outcomes)
    assert results == ["charged"] * 7 + ["insufficient_credits"] * 5
    account, logs = backend.account(user), backend.logs_of(user)
    assert account["credits"] == 0 and account["total_transcriptions"] == 7 and Decimal(str(account["total_credits_spent"])) == Decimal("0.07")
    assert ledger.account_findings(account, logs) == []
    assert sum(s.retries for s in stores) > 0, "twelve writers of one balance at once must have conflicted"
    for i, o in enumerate(outcomes):
        row = backend.row("transcription_jobs", jobs[i])
        assert row["status"] == ("completed" if o.result == "charged" else "processing")
        if o.result == "charged":
            assert row["transcription_text"] == f"take {i}" and row["actual_cost"] == 0.01


def test_one_job_charged_from_many_threads_is_charged_once(backend):
    user = backend.new_user(credits=1.0)
    job = processing_job(backend, user, Decimal("0.25"))
    outcomes = together(6, lambda i: ledger.charge(Store(backend.emulator.client(), DB), job, cost=Decimal("0.25"), duration_seconds=60.0, transcription_text="once", now=now()))
    assert sorted(o.result for o in outcomes) == ["already_charged"] * 5 + ["charged"]
    assert backend.account(user)["credits"] == 0.75
    assert [l["action"] for l in backend.logs_of(user)] == ["credit_grant", "transcription_charge"]


def test_a_new_account_is_opened_once(backend):
    user = backend.new_user()
    accounts = together(8, lambda i: ledger.ensure_account(Store(backend.emulator.client(), DB), user.id, Decimal("50.0"), now()))
    assert {a["$id"] for a in accounts} == {user.id} and all(a["credits"] == 50.0 for a in accounts)
    logs = backend.logs_of(user)
    assert [(l["action"], l["credits_before"], l["credits_after"]) for l in logs] == [("credit_grant", 0.0, 50.0)]


def test_a_job_failed_meanwhile_is_not_charged(backend):
    """cleanup-cron failing a stuck job and transcribe finishing it race: whoever commits first
    wins, and a failed job is never charged."""
    user = backend.new_user(credits=1.0)
    job = processing_job(backend, user, Decimal("0.5"))
    moved, _ = ledger.move_job(Store(backend.emulator.client(), DB), job, expect={"processing"}, patch={"status": "failed", "error_message": "stuck"})
    assert moved
    outcome = ledger.charge(Store(backend.emulator.client(), DB), job, cost=Decimal("0.5"), duration_seconds=60.0, transcription_text="late", now=now())
    assert outcome.result == "not_processing"
    assert backend.account(user)["credits"] == 1.0 and backend.row("transcription_jobs", job)["status"] == "failed"
