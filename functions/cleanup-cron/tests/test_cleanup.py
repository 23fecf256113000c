"""cleanup-cron's entry checks (its work is exercised end to end in tests/backend, against the
emulator with a moved clock; the consistency rules in shared/tests/test_ledger.py)."""

import asyncio

import pytest


@pytest.fixture(scope="module")
def cleanup(staged):
    return staged("cleanup-cron")


def test_it_names_the_variables_it_lacks(cleanup, make_context, parse, monkeypatch):
    for name in ("AUDIO_BUCKET_ID", "DATABASE_ID", "RETENTION_DAYS", "STUCK_JOB_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RETENTION_DAYS", "a month")
    status, body, _ = parse(asyncio.run(cleanup.main(make_context())))
    assert status == 500 and body["error"]["code"] == "configuration_error"
    message = body["error"]["message"]
    assert "RETENTION_DAYS must be a whole number" in message and "STUCK_JOB_MINUTES is not set" in message


def test_with_its_variables_it_needs_the_execution_key(cleanup, make_context, parse, monkeypatch):
    for name, value in {"AUDIO_BUCKET_ID": "audio", "DATABASE_ID": "main-dev", "RETENTION_DAYS": "30", "STUCK_JOB_MINUTES": "30"}.items():
        monkeypatch.setenv(name, value)
    status, body, _ = parse(asyncio.run(cleanup.main(make_context())))
    assert status == 500 and "x-appwrite-key" in body["error"]["message"]
