"""`make run`'s script as a developer runs it: the emulator on a persistent data folder, the
backend brought up on it, a spoken upload through the gateway transcribed; then stopped with
Ctrl-C (SIGINT) and started again on the same data, where nothing is redeployed and the job is
still there."""

import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time

import requests
from appwrite.client import Client
from appwrite.id import ID
from appwrite.services.users import Users

import speech

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """scripts/run.sh in its own process group, its output collected line by line."""

    def __init__(self, data, port):
        env = dict(os.environ, QW_DATA=str(data), QW_PORT=str(port))
        self.proc = subprocess.Popen(["scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines = []
        threading.Thread(target=lambda: [self.lines.append(line) for line in self.proc.stdout], daemon=True).start()

    def wait_for(self, text, timeout=300):
        deadline = time.time() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, "run.sh ended:\n" + "".join(self.lines)
            assert time.time() < deadline, f"no {text!r} from run.sh:\n" + "".join(self.lines)
            time.sleep(0.2)
        return "".join(self.lines)

    def interrupt(self):
        os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        return self.proc.wait(timeout=120)


def test_make_run_serves_the_backend_and_keeps_it_across_restarts(tmp_path):
    data, port = tmp_path / "data", free_port()
    run = Run(data, port)
    out = run.wait_for("backend ready")
    key = re.search(r"api key:\s+(\S+)", out).group(1)
    assert f"endpoint: http://127.0.0.1:{port}/v1" in out and "project:  quixotic" in out
    assert "schema: 001_initial_schema" in out and "api-gateway: " in out and "built and active" in out

    endpoint = f"http://127.0.0.1:{port}/v1"
    users = Users(Client().set_endpoint(endpoint).set_project("quixotic").set_key(key))
    user = users.create(user_id=ID.unique(), email=f"{ID.unique()}@example.com", password="make run password")
    auth = {"Authorization": f"Bearer {users.create_jwt(user_id=user.id).jwt}"}
    wav = speech.speak(speech.SENTENCES[0][0], tmp_path / "speech.wav")
    r = requests.post(f"http://127.0.0.1:{port}/fn/api-gateway/v2/jobs", headers=auth, timeout=60)
    assert r.status_code == 405
    r = requests.post(f"http://127.0.0.1:{port}/fn/api-gateway/v1/upload", headers=auth, files={"file": ("s.wav", wav.read_bytes())}, timeout=120)
    assert r.status_code == 201, r.text
    job_id = r.json()["job"]["id"]
    deadline = time.time() + 120
    while (job := requests.get(f"http://127.0.0.1:{port}/fn/api-gateway/v2/jobs/{job_id}", headers=auth, timeout=60).json()["job"])["status"] not in ("completed", "failed"):
        assert time.time() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "completed", job
    speech.assert_heard(speech.SENTENCES[0][1], job["transcription_text"])
    assert run.interrupt() == 0, "".join(run.lines)

    again = Run(data, port)
    out = again.wait_for("backend ready", timeout=120)
    assert re.search(r"api key:\s+(\S+)", out).group(1) == key, "the key survives restarts"
    assert "schema: up to date" in out and ": deploying" not in out, out
    assert len(re.findall(r"^\S+: up to date \(", out, re.M)) == 5, out
    auth = {"Authorization": f"Bearer {users.create_jwt(user_id=user.id).jwt}"}
    kept = requests.get(f"http://127.0.0.1:{port}/fn/api-gateway/v2/jobs/{job_id}", headers=auth, timeout=60).json()["job"]
    assert kept["status"] == "completed" and kept["transcription_text"] == job["transcription_text"]
    assert again.interrupt() == 0, "".join(again.lines)
