"""`qw emulator` as a process: the command-line contract of DESIGN.md."""

import re
import signal
import subprocess

import requests
from appwrite.services.databases import Databases

from conftest import QW, start_emulator, unique


def test_first_line_names_the_endpoint_and_port_zero_picks_a_free_port():
    a = start_emulator()
    b = start_emulator()
    try:
        for e in (a, b):
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", e.endpoint)
        assert a.endpoint != b.endpoint
        assert requests.get(a.endpoint + "/health/version").json() == {"version": "1.9.6"}
    finally:
        assert a.stop() == 0
        assert b.stop() == 0


def test_sigterm_and_ctrl_c_shut_down_cleanly():
    for sig in (signal.SIGTERM, signal.SIGINT):
        e = start_emulator()
        assert e.stop(sig) == 0


def test_data_survives_restart(tmp_path):
    data = tmp_path / "data"
    e = start_emulator(data=data)
    db = Databases(e.client())
    db.create(database_id="keep", name="Kept")
    db.create_collection(database_id="keep", collection_id="c", name="C")
    db.create_string_attribute(database_id="keep", collection_id="c", key="s", size=10, required=True)
    db.create_document(database_id="keep", collection_id="c", document_id="d1", data={"s": "hello"})
    assert e.stop() == 0

    # Another key: the project and its data are on disk, the key is just a flag.
    again = start_emulator(data=data, project="keep-project")
    try:
        db = Databases(again.client(project="test"))
        assert db.get_document(database_id="keep", collection_id="c", document_id="d1").data["s"] == "hello"
        # both the project loaded from disk and the new one exist
        assert Databases(again.client(project="keep-project")).list().total == 0
    finally:
        assert again.stop() == 0


def test_in_memory_forgets_everything():
    e = start_emulator()
    Databases(e.client()).create(database_id=unique(), name="x")
    assert e.stop() == 0
    e = start_emulator()
    try:
        assert Databases(e.client()).list().total == 0
    finally:
        e.stop()


def test_repeatable_project_flags_and_api_key_on_each():
    e = start_emulator("--project", "second")
    try:
        for p in ("test", "second"):
            Databases(e.client(project=p)).create(database_id="same", name=p)
            assert Databases(e.client(project=p)).get(database_id="same").name == p
    finally:
        e.stop()


def test_bad_usage_exits_2():
    r = subprocess.run([str(QW), "emulator", "--data", "/tmp/x", "--in-memory"], capture_output=True, text=True)
    assert r.returncode == 2
    r = subprocess.run([str(QW), "emulator", "--port", "notaport"], capture_output=True, text=True)
    assert r.returncode == 2
    r = subprocess.run([str(QW), "emulator", "--project", "bad id!"], capture_output=True, text=True)
    assert r.returncode == 2 and "projectId" in r.stderr
