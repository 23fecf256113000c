"""Unit-test support for the functions: each function is staged exactly as it ships
(functions/package.py: its folder plus shared/ as src/shared/) and imported the way the
open-runtimes server imports it, as a package whose entrypoint is `<package>.src.main`; and a
stand-in of the open-runtimes `context` (req, res, log, error) to call handlers with."""

import importlib
import json
import pathlib
import sys

import pytest

FUNCTIONS = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(FUNCTIONS))  # `import shared.…` and `import package` in tests

import package  # noqa: E402


@pytest.fixture(scope="session")
def staged(tmp_path_factory):
    """load(name, module="main") → the module `src/<module>` of the staged function."""
    root = tmp_path_factory.mktemp("staged")
    sys.path.insert(0, str(root))
    done = {}

    def load(name, module="main"):
        pkg = "qwfn_" + name.replace("-", "_")
        if name not in done:
            package.stage(name, root / pkg)
            done[name] = pkg
        return importlib.import_module(f"{pkg}.src.{module}")

    return load


class Request:
    def __init__(self, method="POST", path="/", headers=None, body=b"", query=None):
        self.method = method
        self.path = path
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.body_binary = body if isinstance(body, bytes) else body.encode()
        self.query = query or {}
        self.query_string = "&".join(f"{k}={v}" for k, v in self.query.items())

    @property
    def body(self):
        if self.headers.get("content-type", "").startswith("application/json"):
            return json.loads(self.body_binary or b"{}")
        return self.body_binary.decode()


class Response:
    """The open-runtimes `context.res` (same signatures and return shape)."""

    def send(self, body, statusCode=200, headers=None):
        return {"body": body, "statusCode": statusCode, "headers": dict(headers or {})}

    def text(self, body, statusCode=200, headers=None):
        return self.send(body.encode(), statusCode, headers)

    def json(self, obj, statusCode=200, headers=None):
        headers = dict(headers or {})
        headers["content-type"] = "application/json"
        return self.text(json.dumps(obj), statusCode, headers)


class Context:
    def __init__(self, **request):
        self.req = Request(**request)
        self.res = Response()
        self.logs = []
        self.errors = []

    def log(self, *messages):
        self.logs.append(" ".join(str(m) for m in messages))

    def error(self, *messages):
        self.errors.append(" ".join(str(m) for m in messages))

    def events(self):
        """The structured log lines, parsed."""
        return [json.loads(line) for line in self.logs + self.errors]


@pytest.fixture
def make_context():
    return Context


def answer(result):
    """(status, parsed JSON body, headers) of a handler's return value."""
    body = result["body"]
    if isinstance(body, bytes):
        body = body.decode()
    return result["statusCode"], json.loads(body) if body else None, result["headers"]


@pytest.fixture
def parse():
    return answer


def _encode(src, dst, fmt, codec, rate, options=None):
    """Re-encodes `src` with PyAV (FFmpeg inside the test venv: sox here writes no MP3/AAC/Opus)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=rate)
        for frame in inp.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dst


@pytest.fixture(scope="session")
def tones(tmp_path_factory):
    """{kind: path} of a 2.5 s tone in every accepted format; `webm_live` is a WebM muxed for
    streaming (no Duration, Segment of unknown size), as browsers' MediaRecorder writes."""
    import subprocess

    d = tmp_path_factory.mktemp("tones")
    wav = d / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(wav), "synth", "2.5", "sine", "440"], check=True)
    out = {"wav": wav}
    subprocess.run(["sox", str(wav), str(d / "tone.flac")], check=True)
    out["flac"] = d / "tone.flac"
    subprocess.run(["sox", str(wav), str(d / "tone.ogg")], check=True)
    out["ogg_vorbis"] = d / "tone.ogg"
    out["mp3"] = _encode(wav, d / "tone.mp3", "mp3", "libmp3lame", 16000)
    out["m4a"] = _encode(wav, d / "tone.m4a", "ipod", "aac", 16000)
    out["mp4"] = _encode(wav, d / "tone.mp4", "mp4", "aac", 16000)
    out["ogg_opus"] = _encode(wav, d / "tone.opus", "ogg", "libopus", 48000)
    out["webm"] = _encode(wav, d / "tone.webm", "webm", "libopus", 48000)
    out["webm_live"] = _encode(wav, d / "live.webm", "webm", "libopus", 48000, {"live": "1"})
    return out
