"""`POST /v2/upload`: the user uploads straight to Storage (the SDK's chunked, resumable upload)
and hands the file's ID, with options, to v2 — including a file too large for v1's request."""

import subprocess
import time
from decimal import Decimal

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.input_file import InputFile
from appwrite.services.storage import Storage

import speech
from conftest import record_timing
from test_upload_v1 import cost_of


def upload_to_storage(user, path_or_bytes, name):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    f = Storage(user.client()).create_file(bucket_id="audio", file_id=ID.unique(), file=InputFile.from_bytes(data, name))
    return f.id


def test_spoken_wav_through_v2_with_options(backend, spoken):
    user = backend.new_user()
    text, words = speech.SENTENCES[1]
    file_id = upload_to_storage(user, spoken[1], "invoice.wav")
    started = time.time()
    r = backend.call("POST", "/v2/upload", user, json={"fileId": file_id, "language": "en", "prompt": "Invoice, accounting, Friday."})
    assert r.status_code == 201, r.text
    assert r.headers["x-api-version"] == "v2" and "deprecation" not in r.headers and "sunset" not in r.headers
    job, estimate = r.json()["job"], r.json()["estimate"]
    assert (job["api_version"], job["language"], job["prompt"], job["file_id"]) == ("v2", "en", "Invoice, accounting, Friday.", file_id)
    expected = cost_of(job["duration_seconds"])
    assert estimate["cost"] == float(expected) and estimate["credits_available"] == 50.0
    done = backend.wait_job(job["id"])
    record_timing("v2 upload → completed (espeak WAV, %.1f s of speech)" % job["duration_seconds"], time.time() - started)
    assert done["status"] == "completed", done.get("error_message")
    speech.assert_heard(words, done["transcription_text"])
    assert Decimal(str(backend.account(user)["credits"])) == Decimal(50) - expected
    charges = [l for l in backend.logs_of(user) if l["action"] == "transcription_charge"]
    assert len(charges) == 1 and charges[0]["job_id"] == job["id"] and charges[0]["api_version"] == "v2"


def test_a_file_too_large_for_v1_goes_through_v2(backend, spoken, tmp_path):
    """~8.5 MB of 44.1 kHz stereo (speech, then silence): v1 cannot carry it through the
    gateway (executions take a 10 MiB string, base64 grows it by a third); v2 takes it from
    Storage, where the SDK uploaded it in 5 MiB chunks."""
    user = backend.new_user()
    big = tmp_path / "long.wav"
    subprocess.run(["sox", str(spoken[2]), "-r", "44100", "-c", "2", str(big), "pad", "0", "45"], check=True)
    data = big.read_bytes()
    assert 8 * 1024 * 1024 < len(data) < 10 * 1024 * 1024
    r = backend.upload_v1(user, data, name="long.wav")
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large" and "/v2/upload" in r.json()["error"]["message"]
    file_id = upload_to_storage(user, data, "long.wav")
    assert backend.storage.get_file(bucket_id="audio", file_id=file_id).chunkstotal == 2
    r = backend.call("POST", "/v2/upload", user, json={"fileId": file_id})
    assert r.status_code == 201, r.text
    job = r.json()["job"]
    assert job["file_size"] == len(data) and job["duration_seconds"] == pytest.approx(speech.duration(big), abs=0.01)
    done = backend.wait_job(job["id"])
    assert done["status"] == "completed", done.get("error_message")
    speech.assert_heard(speech.SENTENCES[2][1], done["transcription_text"])


def test_v2_refuses_files_it_must_not_take(backend, spoken):
    alice, bob = backend.new_user(), backend.new_user()
    file_id = upload_to_storage(alice, spoken[3], "piano.wav")

    def refused(user, payload):
        r = backend.call("POST", "/v2/upload", user, json=payload)
        return r.status_code, r.json()["error"]["code"]

    assert refused(bob, {"fileId": file_id}) == (404, "file_not_found")  # not his
    assert refused(alice, {"fileId": "nosuchfile"}) == (404, "file_not_found")
    assert refused(alice, {"fileId": file_id, "language": "klingon"}) == (400, "invalid_request")
    assert refused(alice, {}) == (400, "invalid_request")
    text_file = upload_to_storage(alice, b"these are not the sounds you are looking for" * 10, "notes.wav")
    assert refused(alice, {"fileId": text_file}) == (415, "unsupported_media_type")
    assert backend.jobs_of(alice) == [] and backend.jobs_of(bob) == []
    r = backend.call("POST", "/v2/upload", alice, json={"fileId": file_id})
    assert r.status_code == 201
    again = backend.call("POST", "/v2/upload", alice, json={"fileId": file_id})
    assert again.status_code == 409 and again.json()["error"] == {**again.json()["error"], "code": "file_already_submitted", "job_id": r.json()["job"]["id"]}
    backend.wait_jobs(alice, count=1)
    assert len([l for l in backend.logs_of(alice) if l["action"] == "transcription_charge"]) == 1


def test_the_bucket_itself_refuses_what_is_not_audio_by_name(backend):
    user = backend.new_user()
    with pytest.raises(AppwriteException) as e:
        upload_to_storage(user, b"MZ\x90\x00", "tool.exe")
    assert e.value.code == 400 and e.value.type == "storage_file_type_unsupported"
