"""upload-audio-v1 before it touches Appwrite: the multipart and raw bodies, and every refusal of
bad input (each a clear 4xx with a stable code), through the real entrypoint."""

import asyncio
import os

import pytest

from shared import envelope

VARIABLES = {"AUDIO_BUCKET_ID": "audio", "COST_PER_MINUTE": "0.006", "DATABASE_ID": "main-dev", "DEFAULT_USER_CREDITS": "50", "MAX_FILE_SIZE_MB": "1"}


@pytest.fixture(scope="module")
def v1(staged):
    return staged("upload-audio-v1")


@pytest.fixture(scope="module")
def form(staged):
    return staged("upload-audio-v1", "form")


@pytest.fixture
def variables(monkeypatch):
    for k, v in VARIABLES.items():
        monkeypatch.setenv(k, v)


def multipart(fields, boundary="----qwBoundary7MA4YWxk"):
    out = b""
    for name, (filename, content) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def through_gateway(make_context, body, content_type, user_id="user1", method="POST", query=None):
    text, headers = envelope.wrap(
        api_version="v1", route="/v1/upload", user_id=user_id, scopes=["transcriptions.write"], method=method,
        path="/v1/upload", query=query or {}, headers={"content-type": content_type}, body=body,
    )
    return make_context(method="POST", path="/v1/upload", headers=headers, body=text.encode())


def test_multipart_parts_are_exact_bytes(form):
    payload = os.urandom(2048) + b"\r\n------qwBoundary7MA4YWxk-not-a-boundary\r\n" + b"\r\n"
    body, ctype = multipart({"note": (None, b"hello"), "file": ("my talk.wav", payload)})
    parts = form.multipart_parts(body, ctype)
    assert parts == [("note", None, b"hello"), ("file", "my talk.wav", payload)]


def test_audio_comes_from_the_file_part_or_the_raw_body(form, staged):
    env = staged("upload-audio-v1", "shared.envelope")
    body, ctype = multipart({"file": ("a.wav", b"RIFF")})
    assert form.audio_of(env.Incoming("POST", "/", {}, {"content-type": ctype}, body, "u")) == ("a.wav", b"RIFF")
    raw = env.Incoming("POST", "/", {"filename": "b%20c.flac"}, {"content-type": "audio/flac"}, b"fLaC", "u")
    assert form.audio_of(raw) == ("b c.flac", b"fLaC")
    named = env.Incoming("POST", "/", {}, {"content-type": "application/octet-stream", "x-file-name": "d.mp3"}, b"ID3", "u")
    assert form.audio_of(named) == ("d.mp3", b"ID3")


def refused(v1, ctx, parse):
    status, body, _ = parse(asyncio.run(v1.main(ctx)))
    return status, body["error"]["code"]


def test_bad_uploads_are_refused_with_stable_codes(v1, make_context, parse, variables, tones):
    wav = tones["wav"].read_bytes()
    body, ctype = multipart({"file": ("talk.wav", b"this is not audio at all")})
    assert refused(v1, through_gateway(make_context, body, ctype), parse) == (415, "unsupported_media_type")
    body, ctype = multipart({"file": ("talk.wav", wav[:60])})
    assert refused(v1, through_gateway(make_context, body, ctype), parse) == (422, "invalid_audio")
    body, ctype = multipart({"other": ("talk.wav", wav)})
    assert refused(v1, through_gateway(make_context, body, ctype), parse) == (400, "invalid_request")
    body, ctype = multipart({"file": ("empty.wav", b"")})
    assert refused(v1, through_gateway(make_context, body, ctype), parse) == (400, "invalid_request")
    big = wav + bytes(1024 * 1024)  # over MAX_FILE_SIZE_MB=1
    assert refused(v1, through_gateway(make_context, big, "audio/wav"), parse) == (413, "file_too_large")
    assert refused(v1, through_gateway(make_context, wav, "text/plain"), parse) == (400, "invalid_request")
    assert refused(v1, through_gateway(make_context, wav, "audio/wav", user_id=""), parse) == (401, "unauthorized")
    assert refused(v1, through_gateway(make_context, wav, "audio/wav", method="PUT"), parse) == (405, "method_not_allowed")


def test_a_good_upload_gets_as_far_as_appwrite(v1, make_context, parse, variables, tones):
    """Everything about the audio passes; without an execution key the next step says so."""
    ctx = through_gateway(make_context, tones["mp3"].read_bytes(), "audio/mpeg")
    assert refused(v1, ctx, parse) == (500, "configuration_error")


def test_file_names_take_the_detected_extension(staged):
    jobs = staged("upload-audio-v1", "shared.jobs")
    assert jobs.safe_file_name("talk.mp3", "wav") == "talk.wav"
    assert jobs.safe_file_name("../../etc/passwd", "flac") == "passwd.flac"
    assert jobs.safe_file_name("C:\\Users\\me\\talk.m4a", "mp4") == "talk.mp4"
    assert jobs.safe_file_name("", "ogg") == "audio.ogg"
    assert len(jobs.safe_file_name("x" * 400 + ".wav", "webm")) == 255
