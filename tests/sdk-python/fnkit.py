"""Helpers for the Functions suites: tar.gz archives built in the test, deploy-and-wait, polling,
and the installed runtime IDs."""

import io
import tarfile
import time

from appwrite.input_file import InputFile


def val(v):
    """The plain value of an SDK enum field (status, trigger, …)."""
    return getattr(v, "value", v)


def targz(files, links=None, raw_names=None):
    """A .tar.gz of `files` ({path: str|bytes}), `links` ({path: target}) and, for hostile
    archives, `raw_names` ({name: bytes}) written without any path cleaning."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
        for name, data in (raw_names or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def code(data, name="code.tar.gz"):
    return InputFile.from_bytes(data, name)


def runtime_ids(functions):
    return [r.id for r in functions.list_runtimes().runtimes]


def python_runtime(functions):
    ids = [r for r in runtime_ids(functions) if r.startswith("python-3.")]
    assert ids, "no Python runtime is installed"
    return sorted(ids, key=lambda r: tuple(int(x) for x in r.split("-")[1].split(".")))[-1]


def node_runtime(functions):
    ids = [r for r in runtime_ids(functions) if r.startswith("node-")]
    assert ids, "no Node runtime is installed"
    return ids[0]


def wait_deployment(functions, function_id, deployment_id, timeout=300):
    deadline = time.time() + timeout
    while True:
        d = functions.get_deployment(function_id=function_id, deployment_id=deployment_id)
        if val(d.status) in ("ready", "failed", "canceled"):
            return d
        assert time.time() < deadline, f"deployment stuck in {d.status}"
        time.sleep(0.2)


def deploy(functions, function_id, files, activate=True, **kw):
    """Uploads `files` as a tar.gz and waits for the build; returns the finished deployment."""
    d = functions.create_deployment(function_id=function_id, code=code(targz(files)), activate=activate, **kw)
    d = wait_deployment(functions, function_id, d.id)
    assert val(d.status) == "ready", d.buildlogs
    if activate:
        deadline = time.time() + 30
        while functions.get(function_id=function_id).deploymentid != d.id:
            assert time.time() < deadline, "deployment never became active"
            time.sleep(0.1)
    return d


def wait_execution(functions, function_id, execution_id, timeout=60):
    deadline = time.time() + timeout
    while True:
        e = functions.get_execution(function_id=function_id, execution_id=execution_id)
        if val(e.status) in ("completed", "failed"):
            return e
        assert time.time() < deadline, f"execution stuck in {e.status}"
        time.sleep(0.1)


def wait_for(predicate, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
