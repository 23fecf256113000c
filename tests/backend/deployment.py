"""Bringing the QuixoticWhisper backend up on a fresh emulator, the way it ships:

- schema: `qw migrate up dev` (QW_DEV_ENDPOINT/PROJECT/API_KEY pointing at the emulator), and the
  audio bucket of environments/dev/appwrite.json through the SDK (migrations hold no buckets);
- variables: `qw variables dev [FUNCTION] --json` → project variables (shared and environment
  layers) and function variables (function layer), through the SDK; the secret OPENAI_API_KEY
  comes from the process environment as `qw` reads it; OPENAI_BASE_URL is this emulator's endpoint
  (the dev value names the default emulator port, which a private test emulator does not use);
- functions: created from their environments/dev/appwrite.json settings, in `qw deploy-order dev`,
  and deployed from the archives functions/package.py builds (tar.gz through the SDK).

Builds run `pip install -r requirements.txt` on the emulator; pip's cache lives under $HOME, which
the emulator passes to builds, so repeated runs install from the cache.
"""

import json
import os
import pathlib
import subprocess
import sys
import time

from appwrite.input_file import InputFile
from appwrite.services.functions import Functions
from appwrite.services.project import Project
from appwrite.services.storage import Storage

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "functions"))

import package  # noqa: E402

DEV = json.loads((ROOT / "environments" / "dev" / "appwrite.json").read_text())
OPENAI_TEST_KEY = "sk-emulator-test"


def val(v):
    return getattr(v, "value", v)


def qw(qw_bin, *args, env=None, check=True):
    """Runs `qw ARGS`, returning its parsed --json report."""
    result = subprocess.run([str(qw_bin), *args, "--json"], cwd=ROOT, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"qw {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout)


def qw_env(emulator):
    env = dict(os.environ)
    env.update({
        "QW_DEV_ENDPOINT": emulator.endpoint,
        "QW_DEV_PROJECT": emulator.project,
        "QW_DEV_API_KEY": emulator.api_key,
        "QW_DEV_OPENAI_API_KEY": OPENAI_TEST_KEY,
    })
    return env


def apply_schema(qw_bin, emulator):
    """Migrations up, then the buckets."""
    report = qw(qw_bin, "migrate", "up", "dev", env=qw_env(emulator))
    storage = Storage(emulator.client())
    for b in DEV["buckets"]:
        storage.create_bucket(
            bucket_id=b["$id"], name=b["name"], permissions=b["$permissions"], file_security=b["fileSecurity"], enabled=b["enabled"],
            maximum_file_size=b["maximumFileSize"], allowed_file_extensions=b["allowedFileExtensions"], compression=b["compression"],
            encryption=b["encryption"], antivirus=b["antivirus"],
        )
    return report


def variables(qw_bin, emulator, function=None):
    """{name: (value, layer, secret)} of the resolved variables."""
    args = ["variables", "dev"] + ([function] if function else [])
    report = qw(qw_bin, *args, env=qw_env(emulator))
    out = {}
    for v in report["variables"]:
        value = OPENAI_TEST_KEY if v.get("secret") else v.get("value")
        if v["name"] == "OPENAI_BASE_URL":
            value = emulator.endpoint
        out[v["name"]] = (value, (v.get("from") or {}).get("layer"), bool(v.get("secret")))
    return out


def set_variables(qw_bin, emulator):
    project = Project(emulator.client())
    functions = Functions(emulator.client())
    for name, (value, _, secret) in variables(qw_bin, emulator).items():
        if value is not None:
            project.create_variable(variable_id=name.lower().replace("_", "-"), key=name, value=value, secret=secret)
    for f in DEV["functions"]:
        for name, (value, layer, secret) in variables(qw_bin, emulator, f["$id"]).items():
            if layer == "function":
                functions.create_variable(function_id=f["$id"], variable_id=name.lower().replace("_", "-"), key=name, value=value, secret=secret)


def installed_runtime(functions, wanted):
    """The function's runtime when this machine has it, else the newest installed Python: the
    emulator runs runtimes whose interpreter is on PATH (this machine may lack python3.12)."""
    ids = [r.id for r in functions.list_runtimes().runtimes]
    if wanted in ids:
        return wanted
    python = sorted((r for r in ids if r.startswith("python-3.")), key=lambda r: tuple(int(x) for x in r.split("-")[1].split(".")))
    assert python, f"no Python runtime installed (wanted {wanted})"
    return python[-1]


def deploy_order(qw_bin, emulator):
    return [entry["function"] for entry in qw(qw_bin, "deploy-order", "dev", env=qw_env(emulator))["order"]]


def deploy_all(qw_bin, emulator, guest_functions):
    """Creates and deploys every function; returns {function: (deployment id, runtime)}."""
    functions = Functions(emulator.client())
    settings = {f["$id"]: f for f in DEV["functions"]}
    deployments = {}
    for name in deploy_order(qw_bin, emulator):
        f = settings[name]
        runtime = installed_runtime(guest_functions, f["runtime"])
        functions.create(
            function_id=name, name=f["name"], runtime=runtime, execute=f["execute"], events=f["events"], schedule=f["schedule"],
            timeout=f["timeout"], enabled=f["enabled"], logging=f["logging"], entrypoint=f["entrypoint"], commands=f["commands"],
            scopes=f["scopes"], runtime_specification=f["specification"],
        )
    set_variables(qw_bin, emulator)
    for name in deploy_order(qw_bin, emulator):
        archive = package.archive_bytes(name)
        d = functions.create_deployment(function_id=name, code=InputFile.from_bytes(archive, f"{name}.tar.gz"), activate=True)
        deployments[name] = d.id
    for name, deployment_id in deployments.items():
        deadline = time.time() + 600
        while True:
            d = functions.get_deployment(function_id=name, deployment_id=deployment_id)
            if val(d.status) in ("ready", "failed", "canceled"):
                break
            assert time.time() < deadline, f"{name}: build stuck in {val(d.status)}"
            time.sleep(0.5)
        assert val(d.status) == "ready", f"{name} failed to build:\n{d.buildlogs}"
        deadline = time.time() + 30
        while functions.get(function_id=name).deploymentid != deployment_id:
            assert time.time() < deadline, f"{name}: deployment never became active"
            time.sleep(0.1)
    return deployments
