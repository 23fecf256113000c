"""Fixtures for the Python SDK suite: the real `qw emulator` binary, driven by PyPI `appwrite`.

One emulator serves the whole session (in memory); tests isolate themselves by creating their
own databases, buckets and functions with unique IDs. Tests that need a private emulator (restart,
persistence, signals) start one with `start_emulator()`.
"""

import os
import pathlib
import secrets
import signal
import subprocess
import uuid
import warnings

import pytest
import requests
from appwrite.client import Client
from appwrite.services.databases import Databases
from appwrite.services.tables_db import TablesDB

ROOT = pathlib.Path(__file__).resolve().parents[2]
QW = pathlib.Path(os.environ.get("QW_BIN", ROOT / "target" / "debug" / "qw"))
PROJECT = "test"

# The legacy Databases service is deprecated in the SDK; its warnings are expected noise here.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class Emulator:
    """A running `qw emulator` process."""

    def __init__(self, args, api_key, project=PROJECT):
        self.api_key = api_key
        self.project = project
        self.proc = subprocess.Popen(
            [str(QW), "emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        prefix = "emulator listening on "
        if not line.startswith(prefix):
            self.proc.kill()
            raise RuntimeError(f"unexpected first line {line!r}; stderr: {self.proc.stderr.read()}")
        self.endpoint = line[len(prefix):]
        self.base = self.endpoint[: -len("/v1")]

    def client(self, key=True, project=None):
        c = Client().set_endpoint(self.endpoint).set_project(project or self.project)
        if key:
            c.set_key(self.api_key if key is True else key)
        return c

    def headers(self, key=True, project=None):
        h = {"X-Appwrite-Project": project or self.project, "content-type": "application/json"}
        if key:
            h["X-Appwrite-Key"] = self.api_key if key is True else key
        return h

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


def start_emulator(*extra, project=PROJECT, data=None):
    key = "standard_" + secrets.token_hex(64)
    args = ["--project", project, "--api-key", key, *extra]
    args += ["--data", str(data)] if data else ["--in-memory"]
    return Emulator(args, key, project)


@pytest.fixture(scope="session")
def emulator():
    emu = start_emulator()
    yield emu
    assert emu.stop() == 0, "the emulator must shut down cleanly on SIGTERM"


@pytest.fixture
def client(emulator):
    return emulator.client()


@pytest.fixture
def databases(client):
    return Databases(client)


@pytest.fixture
def tables(client):
    return TablesDB(client)


@pytest.fixture
def api(emulator):
    """Raw HTTP against the emulator, for what the SDK cannot send (bad input, headers)."""

    class Raw:
        def __init__(self):
            self.session = requests.Session()

        def call(self, method, path, key=True, project=None, headers=None, **kw):
            h = emulator.headers(key=key, project=project)
            h.update(headers or {})
            return self.session.request(method, emulator.endpoint + path, headers=h, **kw)

    return Raw()


def unique(prefix="t"):
    return f"{prefix}{uuid.uuid4().hex[:16]}"


@pytest.fixture
def db(databases):
    """A fresh legacy database, deleted afterwards."""
    db_id = unique("db")
    databases.create(database_id=db_id, name="Test")
    yield db_id
    try:
        databases.delete(database_id=db_id)
    except Exception:
        pass


@pytest.fixture
def tdb(tables):
    """A fresh TablesDB database, deleted afterwards."""
    db_id = unique("tdb")
    tables.create(database_id=db_id, name="Test")
    yield db_id
    try:
        tables.delete(database_id=db_id)
    except Exception:
        pass


@pytest.fixture(params=["legacy", "tables"])
def store(request, client):
    """The same scenario through the legacy Databases service and through TablesDB."""
    from stores import Store

    return Store(request.param, client)


@pytest.fixture
def sdb(store):
    """A fresh database created through the service under test."""
    db_id = unique("db")
    store.create_database(db_id)
    yield db_id
    try:
        store.delete_database(db_id)
    except Exception:
        pass


def error_of(excinfo):
    """(HTTP code, Appwrite type, message) of an AppwriteException."""
    e = excinfo.value
    return e.code, e.type, e.message
