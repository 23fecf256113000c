"""`POST /v1/upload` through the gateway: spoken audio in, a completed job with the words out,
credits lower by exactly the cost, one usage log."""

import time
from decimal import Decimal

import speech
from conftest import record_timing

COST_PER_MINUTE = Decimal("0.006")


def cost_of(seconds):
    return (Decimal(str(seconds)) / 60 * COST_PER_MINUTE).quantize(Decimal("0.000001"))


def test_spoken_wav_through_v1_is_transcribed_and_charged_once(backend, spoken):
    user = backend.new_user()
    text, words = speech.SENTENCES[0]
    wav = spoken[0].read_bytes()
    started = time.time()
    r = backend.upload_v1(user, wav, name="weather.wav")
    assert r.status_code == 201, r.text
    body = r.json()
    job = body["job"]
    assert job["status"] == "uploaded" and job["api_version"] == "v1" and job["mime_type"] == "audio/wav"
    assert job["file_name"] == "weather.wav" and job["file_size"] == len(wav)
    assert abs(job["duration_seconds"] - speech.duration(spoken[0])) < 0.01
    expected = cost_of(job["duration_seconds"])
    assert Decimal(str(job["estimated_cost"])) == expected and body["estimate"]["cost"] == float(expected)
    assert body["estimate"]["credits_available"] == 50.0  # DEFAULT_USER_CREDITS in dev, on first use
    assert r.headers["x-api-version"] == "v1"

    done = backend.wait_job(job["id"])
    record_timing("v1 upload → completed (espeak WAV, %.1f s of speech)" % job["duration_seconds"], time.time() - started)
    assert done["status"] == "completed", done.get("error_message")
    speech.assert_heard(words, done["transcription_text"])
    assert Decimal(str(done["actual_cost"])) == expected
    assert done["started_at"] and done["completed_at"] and done["api_version"] == "v1"

    account = backend.account(user)
    assert Decimal(str(account["credits"])) == Decimal("50") - expected
    assert account["total_transcriptions"] == 1 and Decimal(str(account["total_credits_spent"])) == expected
    assert abs(account["total_minutes_transcribed"] - job["duration_seconds"] / 60) < 1e-6
    logs = backend.logs_of(user)
    assert [l["action"] for l in logs] == ["credit_grant", "transcription_charge"]
    charge = logs[1]
    assert charge["$id"] == job["id"] and charge["job_id"] == job["id"] and charge["api_version"] == "v1"
    assert Decimal(str(charge["amount"])) == expected
    assert (charge["credits_before"], Decimal(str(charge["credits_after"]))) == (50.0, Decimal("50") - expected)

    # The file is in the audio bucket, readable by its owner only.
    f = backend.storage.get_file(bucket_id="audio", file_id=job["file_id"])
    assert f.name == "weather.wav" and f.permissions == [f'read("user:{user.id}")']
    assert backend.storage.get_file_download(bucket_id="audio", file_id=job["file_id"]) == wav

    # The owner reads the job and the balance through the API.
    got = backend.call("GET", f"/v1/jobs/{job['id']}", user).json()["job"]
    assert got["status"] == "completed" and got["transcription_text"] == done["transcription_text"]
    credits = backend.call("GET", "/v1/credits", user).json()
    assert Decimal(str(credits["credits"])) == Decimal("50") - expected and credits["total_transcriptions"] == 1
    listed = backend.call("GET", "/v1/jobs", user, style="header").json()
    assert "jobs" in listed, listed
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
