"""`qw migrate` end to end: the real binary against a real `qw emulator` process, with the
environment `dev` pointed at it through QW_DEV_ENDPOINT / QW_DEV_PROJECT / QW_DEV_API_KEY, and
the results read back through the official Python SDK."""

import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest
import requests
from appwrite.exception import AppwriteException
from appwrite.services.databases import Databases

from conftest import QW, ROOT, start_emulator

PROJECT_DIRS = ["environments", "templates", "functions", "schemas", "migrations"]
DB = "main-dev"


BASELINE = 3  # the engine is tested on the repository's first three migrations


@pytest.fixture
def project(tmp_path):
    """A scratch copy of the repository's project as of its first BASELINE migrations (later
    ones removed, schemas/ generated back from those), so the repository can grow new
    migrations without renumbering these tests."""
    for d in PROJECT_DIRS:
        shutil.copytree(ROOT / d, tmp_path / d, ignore=shutil.ignore_patterns("__pycache__"))
    later = [m for m in (tmp_path / "migrations").iterdir() if m.name[:3].isdigit() and int(m.name[:3]) > BASELINE]
    if later:
        for m in later:
            m.unlink()
        r = subprocess.run([str(QW), "--project-dir", str(tmp_path), "schema", "generate"], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    return tmp_path


@pytest.fixture
def emu():
    e = start_emulator(project="qwtest")
    yield e
    e.stop()


class Qw:
    """Runs `qw --project-dir P migrate …` with dev pointed at the emulator."""

    def __init__(self, project, emu):
        self.project = project
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QW_")}
        self.env.update(QW_NO_KEYCHAIN="1", QW_DEV_ENDPOINT=emu.endpoint, QW_DEV_PROJECT=emu.project, QW_DEV_API_KEY=emu.api_key)

    def args(self, *args):
        return [str(QW), "--project-dir", str(self.project), *args]

    def run(self, *args, extra_env=None):
        env = dict(self.env, **(extra_env or {}))
        return subprocess.run(self.args(*args), capture_output=True, text=True, env=env, timeout=120)

    def json(self, *args, extra_env=None):
        r = self.run(*args, "--json", extra_env=extra_env)
        return json.loads(r.stdout), r.returncode

    def spawn(self, *args, extra_env=None):
        env = dict(self.env, **(extra_env or {}))
        return subprocess.Popen(self.args(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def states(self):
        report, code = self.json("migrate", "status", "dev")
        states = {m["label"]: m["state"] for m in report["migrations"]}
        blocked = any(s in ("changed", "missing", "failed") for s in states.values())
        assert (code, report["ok"]) == ((1, False) if blocked else (0, True)), report
        return states


@pytest.fixture
def qw(project, emu):
    return Qw(project, emu)


@pytest.fixture
def dbs(emu):
    return Databases(emu.client())


def write(project, name, content):
    path = project / "migrations" / name
    path.write_text(json.dumps(content, indent=2) + "\n" if not isinstance(content, str) else content)
    return path


def attribute_keys(dbs, collection):
    return [a["key"] for a in dbs.get_collection(DB, collection).to_dict()["attributes"]]


def wait_until(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_up_status_down_and_dry_run(qw, dbs):
    report, code = qw.json("migrate", "up", "dev", "--dry-run")
    assert code == 0, report
    assert [a["label"] for a in report["report"]["actions"]] == ["001_initial_schema", "002_add_usage_logs", "003_add_status_defaults"]
    assert report["report"]["dry_run"] is True
    assert dbs.list().total == 0, "a dry run changes nothing, not even the database"

    r = qw.run("migrate", "up", "dev", "--to", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "applied 001_initial_schema" in r.stdout and "applied 002_add_usage_logs" in r.stdout
    assert qw.states() == {"001_initial_schema": "applied", "002_add_usage_logs": "applied", "003_add_status_defaults": "pending"}
    ids = {c.id for c in dbs.list_collections(DB).collections}
    assert {"transcription_jobs", "user_credits", "usage_logs", "qw_migrations", "qw_migrations_lock"} <= ids

    status, _ = qw.json("migrate", "status", "dev")
    first = status["migrations"][0]
    assert first["checksum"] == first["applied_checksum"] and len(first["checksum"]) == 64
    assert first["applied_at"].endswith("+00:00") and first["duration_ms"] >= 0
    assert status["lock"] is None

    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 0 and "applied 003_add_status_defaults" in r.stdout
    status_attr = dbs.get_attribute(DB, "transcription_jobs", "status").to_dict()
    assert status_attr["default"] == "uploaded"
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 0 and "nothing to do: dev has 3 of 3 migrations applied" in r.stdout

    dry, code = qw.json("migrate", "down", "dev", "2", "--dry-run")
    assert code == 0 and [a["label"] for a in dry["report"]["actions"]] == ["003_add_status_defaults", "002_add_usage_logs"]
    assert "usage_logs" in {c.id for c in dbs.list_collections(DB).collections}

    r = qw.run("migrate", "down", "dev", "2")
    assert r.returncode == 0, r.stdout
    assert "usage_logs" not in {c.id for c in dbs.list_collections(DB).collections}
    assert dbs.get_attribute(DB, "transcription_jobs", "status").to_dict()["default"] is None
    assert qw.states() == {"001_initial_schema": "applied", "002_add_usage_logs": "pending", "003_add_status_defaults": "pending"}

    r = qw.run("migrate", "down", "dev")
    assert r.returncode == 0
    assert {c.id for c in dbs.list_collections(DB).collections} == {"qw_migrations", "qw_migrations_lock"}


def test_data_steps_with_real_documents(qw, dbs):
    assert qw.run("migrate", "up", "dev", "--to", "2").returncode == 0
    job = {"user_id": "u1", "file_id": "f1", "file_name": "a.wav", "file_size": 10, "duration_seconds": 90.0, "estimated_cost": 0.01, "api_version": "v1", "created_at": "2026-01-01T00:00:00.000+00:00"}
    dbs.create_document(DB, "transcription_jobs", "j1", job)
    dbs.create_document(DB, "transcription_jobs", "j2", dict(job, file_id="f2", status="completed", duration_seconds=30.0, language="EN "))
    dbs.create_document(DB, "transcription_jobs", "j3", dict(job, file_id="f3", status="failed", duration_seconds=12.0))

    assert qw.run("migrate", "up", "dev").returncode == 0
    assert dbs.get_document(DB, "transcription_jobs", "j1").data["status"] == "uploaded", "003 fills a missing status"
    assert dbs.get_document(DB, "transcription_jobs", "j2").data["status"] == "completed", "and leaves a set one alone"

    write(qw.project, "004_minutes.json", {
        "up": [
            {"op": "create_attribute", "collection": "transcription_jobs", "attribute": {"key": "duration_minutes", "type": "double", "required": False}},
            {"op": "transform_attribute", "collection": "transcription_jobs", "from": "duration_seconds", "to": "duration_minutes", "transform": {"multiply": 1 / 60}},
            {"op": "create_attribute", "collection": "transcription_jobs", "attribute": {"key": "lang", "type": "string", "size": 16, "required": False}},
            {"op": "copy_attribute", "collection": "transcription_jobs", "from": "language", "to": "lang", "queries": [{"method": "isNotNull", "attribute": "language"}]},
            {"op": "transform_attribute", "collection": "transcription_jobs", "from": "lang", "to": "language", "transform": {"trim": True}},
            {"op": "update_documents", "collection": "transcription_jobs", "queries": [{"method": "equal", "attribute": "status", "values": ["failed"]}], "patch": {"error_message": "migrated"}},
            {"op": "delete_documents", "collection": "transcription_jobs", "queries": [{"method": "equal", "attribute": "file_id", "values": ["f3"]}]},
        ],
        "down": [
            {"op": "delete_attribute", "collection": "transcription_jobs", "key": "lang"},
            {"op": "delete_attribute", "collection": "transcription_jobs", "key": "duration_minutes"},
        ],
    })
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 0, r.stdout + r.stderr
    j1 = dbs.get_document(DB, "transcription_jobs", "j1").data
    j2 = dbs.get_document(DB, "transcription_jobs", "j2").data
    assert j1["duration_minutes"] == pytest.approx(1.5) and j2["duration_minutes"] == pytest.approx(0.5)
    assert j2["lang"] == "EN " and j2["language"] == "EN" and j1["lang"] is None
    with pytest.raises(AppwriteException) as e:
        dbs.get_document(DB, "transcription_jobs", "j3")
    assert e.value.code == 404

    assert qw.run("migrate", "down", "dev").returncode == 0
    assert "duration_minutes" not in attribute_keys(dbs, "transcription_jobs")
    assert dbs.get_document(DB, "transcription_jobs", "j2").data["language"] == "EN", "data changes are kept by this down"

    check, code = qw.json("migrate", "check")
    flagged = {(f["code"], f["pointer"]) for f in check["findings"] if f["file"] == "migrations/004_minutes.json"}
    assert ("destructive-step", "/up/4") in flagged, check  # language overwritten in place
    assert ("destructive-step", "/up/6") in flagged  # documents deleted
    assert ("destructive-step", "/up/1") not in flagged, "writing into a new attribute loses nothing"


def test_a_migration_edited_after_it_was_applied_blocks_up(qw):
    assert qw.run("migrate", "up", "dev", "--to", "2").returncode == 0
    path = qw.project / "migrations" / "002_add_usage_logs.json"
    doc = json.loads(path.read_text())
    doc["description"] = "edited after it ran"
    path.write_text(json.dumps(doc, indent=2) + "\n")

    assert qw.states()["002_add_usage_logs"] == "changed"
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 1
    assert "002_add_usage_logs was applied with checksum" in r.stdout
    assert "qw migrate accept dev 2" in r.stdout
    assert qw.states()["003_add_status_defaults"] == "pending", "nothing ran"
    report, code = qw.json("migrate", "up", "dev")
    assert code == 1 and report["error"]["kind"] == "blocked" and report["error"]["blockers"][0]["code"] == "checksum-mismatch"

    r = qw.run("migrate", "accept", "dev", "2")
    assert r.returncode == 0, r.stdout
    assert qw.run("migrate", "accept", "dev", "2").returncode == 1, "nothing left to accept"
    assert qw.run("migrate", "up", "dev").returncode == 0
    assert set(qw.states().values()) == {"applied"}


def test_two_runners_at_once(qw, tmp_path, dbs):
    signal_file = tmp_path / "go"
    write(qw.project, "004_wait.js", """
import { existsSync } from "node:fs";
export default {
  up: async (databases, { databaseId }) => {
    while (!existsSync(process.env.QW_TEST_SIGNAL)) await new Promise((r) => setTimeout(r, 20));
    await databases.createBooleanAttribute(databaseId, "user_credits", "flagged", false);
  },
  down: async (databases, { databaseId }) => {
    await databases.deleteAttribute(databaseId, "user_credits", "flagged");
  },
};
""")
    env = {"QW_TEST_SIGNAL": str(signal_file)}
    first = qw.spawn("migrate", "up", "dev", extra_env=env)
    try:
        def locked():
            report, _ = qw.json("migrate", "status", "dev")
            return report.get("lock") is not None and report["migrations"][-1]["state"] == "running"
        wait_until(locked, "the first runner to hold the lock and run 004")

        second = qw.run("migrate", "up", "dev", extra_env=env)
        assert second.returncode == 1
        assert "dev is locked by another migration runner" in second.stdout
        assert "qw migrate up dev" in second.stdout and "--lock-wait" in second.stdout
        report, code = qw.json("migrate", "up", "dev", extra_env=env)
        assert code == 1 and report["error"]["kind"] == "locked" and report["error"]["holder"]["stale"] is False

        waiting = qw.spawn("migrate", "up", "dev", "--lock-wait", "120", extra_env=env)
        signal_file.write_text("go")
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, out + err
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, out + err
        assert "nothing to do" in out, "the waiting runner found the work done"
    finally:
        signal_file.write_text("go")
        if first.poll() is None:
            first.kill()
    assert "flagged" in attribute_keys(dbs, "user_credits")
    assert qw.states()["004_wait"] == "applied"


def test_a_dead_runner_leaves_a_lock_that_is_broken_explicitly(qw, tmp_path):
    signal_file = tmp_path / "never"
    write(qw.project, "004_hang.js", """
import { existsSync } from "node:fs";
export default {
  up: async () => { while (!existsSync(process.env.QW_TEST_SIGNAL)) await new Promise((r) => setTimeout(r, 20)); },
  down: async () => {},
};
""")
    env = {"QW_TEST_SIGNAL": str(signal_file)}
    runner = qw.spawn("migrate", "up", "dev", extra_env=env)
    wait_until(lambda: qw.json("migrate", "status", "dev")[0]["migrations"][-1]["state"] == "running", "the runner to start 004")
    runner.kill()
    runner.wait()
    status, _ = qw.json("migrate", "status", "dev")
    assert status["lock"]["holder"].endswith(f"pid {runner.pid}")

    r = qw.run("migrate", "up", "dev", extra_env=env)
    assert r.returncode == 1 and "locked" in r.stdout
    r = qw.run("migrate", "unlock", "dev")
    assert r.returncode == 0 and "removed the lock of" in r.stdout
    assert qw.run("migrate", "unlock", "dev").stdout.strip().endswith("dev was not locked")

    # Killed again, this time the next run breaks the lock itself and resumes 004.
    runner = qw.spawn("migrate", "up", "dev", extra_env=env)
    wait_until(lambda: qw.json("migrate", "status", "dev")[0].get("lock") is not None, "the runner to take the lock again")
    runner.kill()
    runner.wait()
    assert qw.states()["004_hang"] == "running"
    signal_file.write_text("go")
    r = qw.run("migrate", "up", "dev", "--break-lock", extra_env=env)
    assert r.returncode == 0, r.stdout
    assert qw.states()["004_hang"] == "applied"
    assert qw.json("migrate", "status", "dev")[0]["lock"] is None


def test_a_step_left_half_done_by_a_failure_is_finished_on_resume(qw, dbs):
    migration = {"up": [{"op": "create_collection", "collection": "api_keys", "name": "API keys", "attributes": [
        {"key": "owner", "type": "string", "size": 36, "required": True},
        {"key": "hits", "type": "integer", "required": False, "min": 10, "max": 1},
    ]}]}
    write(qw.project, "004_api_keys.json", migration)
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 1 and "Minimum value must be lesser than maximum value (400 attribute_value_invalid)" in r.stdout
    assert attribute_keys(dbs, "api_keys") == ["owner"], "the step stopped half way"
    migration["up"][0]["attributes"][1]["max"] = 100
    write(qw.project, "004_api_keys.json", migration)
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 0, r.stdout
    assert attribute_keys(dbs, "api_keys") == ["owner", "hits"]
    assert qw.run("migrate", "down", "dev").returncode == 0
    assert "api_keys" not in {c.id for c in dbs.list_collections(DB).collections}


def test_a_failure_is_recorded_and_a_rerun_resumes_at_the_failed_step(qw, dbs):
    bad = {
        "up": [
            {"op": "create_attribute", "collection": "user_credits", "attribute": {"key": "plan", "type": "string", "size": 20, "required": False}},
            {"op": "create_index", "collection": "user_credits", "index": {"key": "idx_plan", "type": "key", "attributes": ["plan_name"]}},
            {"op": "create_index", "collection": "user_credits", "index": {"key": "idx_credits", "type": "key", "attributes": ["credits"]}},
        ]
    }
    write(qw.project, "004_plans.json", bad)
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 1
    assert "004_plans: up step 2 (create index user_credits.idx_plan) failed" in r.stdout
    assert "resume at step 2" in r.stdout
    status, _ = qw.json("migrate", "status", "dev")
    line = status["migrations"][-1]
    assert line["state"] == "failed" and line["done"] == 1 and line["failed_step"] == 2 and line["error"]
    assert [m["state"] for m in status["migrations"][:3]] == ["applied"] * 3, "earlier migrations stay applied"
    assert status["lock"] is None, "the lock is released after a failure"
    assert "plan" in attribute_keys(dbs, "user_credits")

    # Editing a step that already ran is refused; fixing the failed one resumes after the done step.
    changed = json.loads(json.dumps(bad))
    changed["up"][0]["attribute"]["size"] = 30
    write(qw.project, "004_plans.json", changed)
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 1 and "the steps already applied have changed since" in r.stdout

    bad["up"][1]["index"]["attributes"] = ["plan"]
    write(qw.project, "004_plans.json", bad)
    dry, _ = qw.json("migrate", "up", "dev", "--dry-run")
    assert dry["report"]["actions"][0] == {"action": "apply", "version": 4, "from": 1, "label": "004_plans", "kind": "json",
                                          "steps": ["create index user_credits.idx_plan", "create index user_credits.idx_credits"]}
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 0, r.stdout  # creating `plan` again would have failed with 409
    assert {i["key"] for i in dbs.list_indexes(DB, "user_credits").to_dict()["indexes"]} == {"idx_user", "idx_plan", "idx_credits"}
    assert qw.states()["004_plans"] == "applied"

    assert qw.run("migrate", "down", "dev").returncode == 0
    assert "plan" not in attribute_keys(dbs, "user_credits")


def test_a_js_migration_runs_through_node_appwrite(qw, dbs):
    write(qw.project, "004_add_notes.js", """
// Adds a notes attribute with node-appwrite, as the original design's migrations do.
export default {
  up: async (databases, { databaseId }) => {
    await databases.createStringAttribute(databaseId, "transcription_jobs", "notes", 500, false);
  },
  down: async (databases, { databaseId }) => {
    await databases.deleteAttribute(databaseId, "transcription_jobs", "notes");
  },
};
""")
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 0, r.stdout + r.stderr
    notes = dbs.get_attribute(DB, "transcription_jobs", "notes").to_dict()
    assert notes["size"] == 500 and notes["required"] is False
    status, _ = qw.json("migrate", "status", "dev")
    assert status["migrations"][-1]["state"] == "applied" and status["migrations"][-1]["label"] == "004_add_notes"

    assert qw.run("migrate", "down", "dev").returncode == 0
    assert "notes" not in attribute_keys(dbs, "transcription_jobs")

    write(qw.project, "005_broken.js", "export default { up: async (databases, { databaseId }) => { await databases.deleteCollection(databaseId, 'nope'); }, down: async () => {} };\n")
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 1
    assert "005_broken: up step 1 (run up of migrations/005_broken.js) failed: Collection with the requested ID 'nope' could not be found." in r.stdout


def test_bad_input_is_refused_and_changes_nothing(qw, emu, dbs):
    assert qw.run("migrate", "up", "qa").returncode == 2
    r = qw.run("migrate", "up", "dev", extra_env={"QW_DEV_API_KEY": ""})
    assert r.returncode == 2 and "no API key for dev" in r.stderr
    r = qw.run("migrate", "status", "dev", extra_env={"QW_DEV_ENDPOINT": "http://127.0.0.1:9/v1"})
    assert r.returncode == 1 and "cannot read the history at http://127.0.0.1:9/v1" in r.stdout
    r = qw.run("migrate", "up", "dev", extra_env={"QW_DEV_API_KEY": "standard_wrong"})
    assert r.returncode == 1 and "user_unauthorized" in r.stdout
    # A mistyped project is an error, not an empty project with everything pending.
    for args in (["status", "dev"], ["up", "dev", "--dry-run"], ["unlock", "dev"]):
        r = qw.run("migrate", *args, extra_env={"QW_DEV_PROJECT": "nosuchproject"})
        assert r.returncode == 1 and "project_not_found" in r.stdout, (args, r.stdout)
    # An endpoint override that is not an API root is bad configuration (2), before any request.
    for endpoint in ("notaurl", emu.endpoint[: -len("/v1")]):
        r = qw.run("migrate", "status", "dev", extra_env={"QW_DEV_ENDPOINT": endpoint})
        assert r.returncode == 2 and f"the endpoint {json.dumps(endpoint)} (from $QW_DEV_ENDPOINT)" in r.stderr, r.stderr
    # Versions that name no migration.
    for args in (["up", "dev", "--to", "99"], ["accept", "dev", "99"]):
        r = qw.run("migrate", *args)
        assert r.returncode == 2 and "there is no migration 099 in migrations/ (the last is 003_add_status_defaults)" in r.stderr, r.stderr

    write(qw.project, "004_bad.json", {"up": [{"op": "create_attribute", "collection": "c"}]})
    report, code = qw.json("migrate", "up", "dev")
    assert code == 2
    assert {(f["code"], f["file"], f["pointer"]) for f in report["findings"]} >= {("migration-invalid", "migrations/004_bad.json", "/up/0")}
    assert dbs.list().total == 0, "nothing was created"
    (qw.project / "migrations" / "004_bad.json").unlink()

    r = qw.run("migrate", "create", "Bad Name")
    assert r.returncode == 2
    r = qw.run("migrate", "create", "add_api_keys", "--js")
    assert r.returncode == 0 and "created migrations/004_add_api_keys.js" in r.stdout
    assert (qw.project / "migrations" / "004_add_api_keys.js").read_text().startswith("// 004_add_api_keys: add api keys.")
    r = qw.run("migrate", "create", "rename_things")
    assert r.returncode == 0 and (qw.project / "migrations" / "005_rename_things.json").is_file()
    check, code = qw.json("migrate", "check")
    assert code == 0, check


def test_bucket_steps(qw, emu):
    probe = requests.get(emu.endpoint + "/storage/buckets", headers=emu.headers())
    if probe.status_code == 404 and probe.json().get("type") == "general_route_not_found":
        pytest.skip("this emulator build has no Storage API yet")
    write(qw.project, "004_exports.json", {"up": [
        {"op": "create_bucket", "bucket": "exports", "name": "Exports", "maximumFileSize": 1048576, "allowedFileExtensions": ["csv"], "fileSecurity": True},
        {"op": "update_bucket", "bucket": "exports", "set": {"name": "CSV exports"}, "from": {"name": "Exports"}},
    ]})
    r = qw.run("migrate", "up", "dev")
    assert r.returncode == 0, r.stdout
    bucket = requests.get(emu.endpoint + "/storage/buckets/exports", headers=emu.headers()).json()
    assert bucket["name"] == "CSV exports" and bucket["maximumFileSize"] == 1048576 and bucket["allowedFileExtensions"] == ["csv"]
    assert qw.run("migrate", "down", "dev").returncode == 0
    assert requests.get(emu.endpoint + "/storage/buckets/exports", headers=emu.headers()).status_code == 404
