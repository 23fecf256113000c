"""transcribe's pure parts: which job a run is for, and the Whisper client against a local stand-in
of the OpenAI API (the real API cannot be reached here; the emulator's endpoint is exercised end
to end in tests/backend)."""

import http.server
import json
import threading

import pytest


@pytest.fixture(scope="module")
def transcribe(staged):
    return staged("transcribe")


@pytest.fixture(scope="module")
def whisper(staged):
    return staged("transcribe", "whisper")


def test_the_job_comes_from_the_event_row_or_a_manual_body(transcribe):
    assert transcribe.job_id_of({"$id": "job1", "user_id": "u", "$tableId": "transcription_jobs"}) == "job1"
    assert transcribe.job_id_of({"jobId": "job2"}) == "job2"
    for bad in ({}, {"jobId": ""}, {"$id": 5}, "job3", None):
        with pytest.raises(transcribe.ApiError) as e:
            transcribe.job_id_of(bad)
        assert e.value.code == "invalid_request"


class StandIn(http.server.BaseHTTPRequestHandler):
    """Answers like api.openai.com: scripted (status, body) per request; records requests."""

    script = []
    seen = []

    def do_POST(self):
        length = int(self.headers["content-length"])
        body = self.rfile.read(length)
        StandIn.seen.append((self.path, dict(self.headers), body))
        status, answer = StandIn.script.pop(0)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def openai_stand_in():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    StandIn.script, StandIn.seen = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", StandIn
    server.shutdown()


def test_a_transcript_is_requested_the_way_openai_expects(whisper, openai_stand_in):
    base, stand_in = openai_stand_in
    stand_in.script = [(200, {"text": " Hello there. "})]
    text = whisper.transcribe(base + "/", "sk-test", "whisper-1", data=b"RIFFdata", file_name="a.wav", mime_type="audio/wav", language="en", prompt="greeting")
    assert text == "Hello there."
    path, headers, body = stand_in.seen[0]
    assert path == "/v1/audio/transcriptions" and headers["Authorization"] == "Bearer sk-test"
    assert headers["Content-Type"].startswith("multipart/form-data")
    for part in (b'name="model"\r\n\r\nwhisper-1', b'name="language"\r\n\r\nen', b'name="prompt"\r\n\r\ngreeting', b'filename="a.wav"', b"RIFFdata", b'name="response_format"\r\n\r\njson'):
        assert part in body


def test_a_refusal_is_reported_with_openai_s_message_and_not_retried(whisper, openai_stand_in):
    base, stand_in = openai_stand_in
    stand_in.script = [(400, {"error": {"message": "Invalid file format.", "type": "invalid_request_error"}})]
    with pytest.raises(whisper.TranscriptionError) as e:
        whisper.transcribe(base, "k", "whisper-1", data=b"x", file_name="a.wav", mime_type="audio/wav")
    assert str(e.value) == "the transcription API answered 400: Invalid file format."
    assert len(stand_in.seen) == 1


def test_server_errors_are_retried_once(whisper, openai_stand_in, monkeypatch):
    monkeypatch.setattr(whisper.time, "sleep", lambda s: None)
    base, stand_in = openai_stand_in
    stand_in.script = [(503, {"error": {"message": "overloaded"}}), (200, {"text": "fine"})]
    assert whisper.transcribe(base, "k", "whisper-1", data=b"x", file_name="a.wav", mime_type="audio/wav") == "fine"
    stand_in.script = [(500, {"error": {"message": "boom"}}), (500, {"error": {"message": "boom again"}})]
    with pytest.raises(whisper.TranscriptionError) as e:
        whisper.transcribe(base, "k", "whisper-1", data=b"x", file_name="a.wav", mime_type="audio/wav")
    assert "500: boom again" in str(e.value)


def test_an_unreachable_api_is_a_transcription_error(whisper, monkeypatch):
    monkeypatch.setattr(whisper.time, "sleep", lambda s: None)
    with pytest.raises(whisper.TranscriptionError) as e:
        whisper.transcribe("http://127.0.0.1:9/v1", "k", "whisper-1", data=b"x", file_name="a.wav", mime_type="audio/wav")
    assert "could not be reached" in str(e.value)


def test_missing_variables_stop_the_run_before_anything_changes(transcribe, make_context, parse, monkeypatch):
    for name in ("AUDIO_BUCKET_ID", "COST_PER_MINUTE", "DATABASE_ID", "OPENAI_API_KEY", "OPENAI_BASE_URL", "WHISPER_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_ID", "main-dev")
    import asyncio

    status, body, _ = parse(asyncio.run(transcribe.main(make_context(headers={"content-type": "application/json"}, body=b'{"jobId": "j"}'))))
    assert status == 500 and body["error"]["code"] == "configuration_error"
    assert "OPENAI_API_KEY" in body["error"]["message"] and "WHISPER_MODEL" in body["error"]["message"]
