#!/usr/bin/env python3
"""Brings the QuixoticWhisper backend up on an emulator (or any Appwrite reached with an API key),
the way it ships, and brings it up to date when run again:

- schema: `qw migrate up dev` (QW_DEV_ENDPOINT/PROJECT/API_KEY pointing at the target), and the
  buckets of environments/dev/appwrite.json through the SDK (migrations hold no buckets);
- variables: `qw variables dev [FUNCTION] --json` → project variables (shared and environment
  layers) and function variables (function layer); the secret OPENAI_API_KEY comes from the
  process environment as `qw` reads it (a placeholder the emulator accepts when unset), and
  OPENAI_BASE_URL is the target's own endpoint, whose transcription route stands in for OpenAI;
- functions: created (or updated) from their environments/dev/appwrite.json settings in
  `qw deploy-order dev`, and deployed from the reproducible archives functions/package.py builds,
  only when the archive differs from the active deployment's (recorded in a state file).

`make run` runs it against its emulator; tests/backend runs it against a fresh one. Builds run
`pip install -r requirements.txt` on the emulator; pip's cache lives under $HOME, which the
emulator passes to builds, so repeated runs install from the cache.

    python functions/deploy.py --endpoint URL --project ID --key KEY [--qw PATH] [--state FILE]
"""

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import time

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.input_file import InputFile
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.project import Project
from appwrite.services.storage import Storage

FUNCTIONS = pathlib.Path(__file__).resolve().parent
ROOT = FUNCTIONS.parent
sys.path.insert(0, str(FUNCTIONS))

import package  # noqa: E402

DEV = json.loads((ROOT / "environments" / "dev" / "appwrite.json").read_text())
# What OPENAI_API_KEY holds when no real key is configured: the emulator accepts any bearer.
PLACEHOLDER_OPENAI_KEY = "sk-emulator-local"


class Target:
    """Where the backend goes: an endpoint, a project and an API key holding every scope."""

    def __init__(self, endpoint, project, api_key, qw_bin):
        self.endpoint = endpoint.rstrip("/")
        self.project = project
        self.api_key = api_key
        self.qw_bin = str(qw_bin)

    def client(self, key=True):
        c = Client().set_endpoint(self.endpoint).set_project(self.project)
        return c.set_key(self.api_key) if key else c

    def qw(self, *args):
        """Runs `qw ARGS --json` with dev pointed here, returning its parsed report."""
        env = dict(os.environ, QW_DEV_ENDPOINT=self.endpoint, QW_DEV_PROJECT=self.project, QW_DEV_API_KEY=self.api_key)
        env.setdefault("QW_DEV_OPENAI_API_KEY", PLACEHOLDER_OPENAI_KEY)
        result = subprocess.run([self.qw_bin, *args, "--json"], cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"qw {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout)


def val(v):
    return getattr(v, "value", v)


def missing(e):
    return isinstance(e, AppwriteException) and e.code == 404


def apply_schema(target, say=print):
    """Migrations up, then the buckets that do not exist yet."""
    report = target.qw("migrate", "up", "dev")
    applied = [a["label"] for a in (report.get("report") or {}).get("actions", [])]
    say(f"schema: {', '.join(applied) + ' applied' if applied else 'up to date'}")
    storage = Storage(target.client())
    for b in DEV["buckets"]:
        try:
            storage.get_bucket(bucket_id=b["$id"])
            continue
        except AppwriteException as e:
            if not missing(e):
                raise
        storage.create_bucket(
            bucket_id=b["$id"], name=b["name"], permissions=b["$permissions"], file_security=b["fileSecurity"], enabled=b["enabled"],
            maximum_file_size=b["maximumFileSize"], allowed_file_extensions=b["allowedFileExtensions"], compression=b["compression"],
            encryption=b["encryption"], antivirus=b["antivirus"],
        )
        say(f"bucket {b['$id']}: created")
    return report


def variables(target, function=None):
    """{name: (value, layer, secret)} of the resolved dev variables, as this target needs them."""
    report = target.qw("variables", "dev", *([function] if function else []))
    out = {}
    for v in report["variables"]:
        value = v.get("value")
        if v.get("secret"):
            value = os.environ.get("QW_DEV_OPENAI_API_KEY", PLACEHOLDER_OPENAI_KEY) if v["name"] == "OPENAI_API_KEY" else value
        if v["name"] == "OPENAI_BASE_URL":
            value = target.endpoint
        out[v["name"]] = (value, (v.get("from") or {}).get("layer"), bool(v.get("secret")))
    return out


def variable_id(name):
    return name.lower().replace("_", "-")


def upsert_variable(existing, create, update, name, value, secret):
    """Creates the variable, or updates it when its value differs; True when something changed.
    A secret's value is never read back, so an existing secret is rewritten every time."""
    current = existing.get(name)
    if current is None:
        create(variable_id=variable_id(name), key=name, value=value, secret=secret)
        return True
    if secret or current.value != value:
        update(variable_id=current.id, key=name, value=value, secret=secret)
        return not secret
    return False


def set_variables(target, say=print):
    project = Project(target.client())
    functions = Functions(target.client())
    existing = {v.key: v for v in project.list_variables().variables}
    changed = 0
    for name, (value, _, secret) in variables(target).items():
        if value is not None:
            changed += upsert_variable(existing, project.create_variable, project.update_variable, name, value, secret)
    for f in DEV["functions"]:
        mine = {v.key: v for v in functions.list_variables(function_id=f["$id"]).variables}
        for name, (value, layer, secret) in variables(target, f["$id"]).items():
            if layer == "function":
                changed += upsert_variable(
                    mine,
                    lambda **kw: functions.create_variable(function_id=f["$id"], **kw),
                    lambda **kw: functions.update_variable(function_id=f["$id"], **kw),
                    name, value, secret,
                )
    say(f"variables: {changed} created or changed")


def runtime_picker(target):
    """A function mapping a wanted runtime to the one to use: itself when the target has it, else
    the target's newest Python (the emulator runs the runtimes whose interpreter is on PATH, and
    this machine may lack python3.12)."""
    ids = [r.id for r in Functions(target.client(key=False)).list_runtimes().runtimes]
    python = sorted((r for r in ids if r.startswith("python-3.")), key=lambda r: tuple(int(x) for x in r.split("-")[1].split(".")))

    def pick(wanted):
        if wanted in ids:
            return wanted
        if not python:
            raise RuntimeError(f"the target has no Python runtime (wanted {wanted}); it offers {ids}")
        return python[-1]

    return pick


def deploy_order(target):
    return [entry["function"] for entry in target.qw("deploy-order", "dev")["order"]]


def load_state(path):
    try:
        return json.loads(path.read_text()) if path else {}
    except FileNotFoundError:
        return {}


def deploy_all(target, state_file=None, say=print):
    """Creates or updates every function and deploys the ones whose code changed; returns
    {function: deployment id} of the active deployments."""
    functions = Functions(target.client())
    settings = {f["$id"]: f for f in DEV["functions"]}
    order = deploy_order(target)
    state_path = pathlib.Path(state_file) if state_file else None
    state = load_state(state_path)
    known = state.setdefault(f"{target.endpoint} {target.project}", {})
    current = {}
    installed_runtime = runtime_picker(target)
    for name in order:
        f = settings[name]
        runtime = installed_runtime(f["runtime"])
        if runtime != f["runtime"]:
            say(f"{name}: runtime {f['runtime']} is not available here, using {runtime}")
        fields = dict(
            function_id=name, name=f["name"], runtime=runtime, execute=f["execute"], events=f["events"],
            schedule=f["schedule"], timeout=f["timeout"], enabled=f["enabled"], logging=f["logging"], entrypoint=f["entrypoint"],
            commands=f["commands"], scopes=f["scopes"], runtime_specification=f["specification"],
        )
        try:
            current[name] = functions.get(function_id=name).deploymentid
            functions.update(**fields)
        except AppwriteException as e:
            if not missing(e):
                raise
            functions.create(**fields)
            current[name] = ""
    set_variables(target, say)
    started = {}
    for name in order:
        archive = package.archive_bytes(name)
        digest = hashlib.sha256(archive).hexdigest()
        if current[name] and known.get(name) == {"deployment": current[name], "sha256": digest}:
            say(f"{name}: up to date ({current[name]})")
            continue
        d = functions.create_deployment(function_id=name, code=InputFile.from_bytes(archive, f"{name}.tar.gz"), activate=True)
        started[name] = (d.id, digest)
        say(f"{name}: deploying {d.id}")
    for name, (deployment_id, digest) in started.items():
        wait_ready(functions, name, deployment_id)
        current[name] = deployment_id
        known[name] = {"deployment": deployment_id, "sha256": digest}
        say(f"{name}: {deployment_id} built and active")
    if state_path:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps(state, indent=2) + "\n")
    return current


def wait_ready(functions, name, deployment_id, timeout=600):
    deadline = time.time() + timeout
    while True:
        d = functions.get_deployment(function_id=name, deployment_id=deployment_id)
        if val(d.status) in ("ready", "failed", "canceled"):
            break
        if time.time() > deadline:
            raise RuntimeError(f"{name}: build stuck in {val(d.status)}")
        time.sleep(0.5)
    if val(d.status) != "ready":
        raise RuntimeError(f"{name} failed to build:\n{d.buildlogs}")
    deadline = time.time() + 30
    while functions.get(function_id=name).deploymentid != deployment_id:
        if time.time() > deadline:
            raise RuntimeError(f"{name}: deployment {deployment_id} never became active")
        time.sleep(0.1)


def bring_up(target, state_file=None, say=print):
    apply_schema(target, say)
    return deploy_all(target, state_file, say)


def main(argv=None):
    p = argparse.ArgumentParser(description="Bring the QuixoticWhisper backend up (or up to date) on an Appwrite endpoint.")
    p.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:8095/v1")
    p.add_argument("--project", default=DEV["projectId"])
    p.add_argument("--key", required=True, help="an API key holding every scope")
    p.add_argument("--qw", default=str(ROOT / "target" / "debug" / "qw"), help="the qw binary")
    p.add_argument("--state", help="file remembering what was deployed, to skip unchanged functions")
    args = p.parse_args(argv)
    try:
        bring_up(Target(args.endpoint, args.project, args.key, args.qw), args.state)
    except (RuntimeError, AppwriteException) as e:
        print(f"deploy.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
