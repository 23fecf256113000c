"""Functions through PyPI `appwrite` 27: functions, variables, deployments from tar.gz archives
built here, Python executions on the open-runtimes contract, events, schedules, timeouts,
crashes, refused archives and function HTTP access, against the real binary."""

import json
import time

import pytest
import requests
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.databases import Databases
from appwrite.services.functions import Functions
from appwrite.services.project import Project

from conftest import error_of, start_emulator, unique
from fnkit import code, deploy, python_runtime, targz, val, wait_deployment, wait_execution, wait_for

ECHO_PY = r'''
import json
import os
import time


def main(context):
    req = context.req
    if req.path == "/text":
        return context.res.text("plain text", 202, {"x-kind": "text"})
    if req.path == "/binary":
        return context.res.binary(bytes([0, 1, 2, 200]))
    if req.path == "/empty":
        return context.res.empty()
    if req.path == "/redirect":
        return context.res.redirect("https://example.com/next", 302)
    if req.path == "/send":
        return context.res.send("sent body", 201, {"x-kind": "send"})
    if req.path == "/raise":
        raise ValueError("kaboom from the function")
    if req.path == "/nothing":
        return None
    if req.path == "/sleep":
        time.sleep(60)
        return context.res.text("too late")
    if req.path == "/crash":
        print("about to crash")
        os.write(2, b"fatal: the runtime is going down\n")
        os._exit(3)
    context.log("log line", {"n": 1})
    context.error("error line")
    print("printed natively")
    try:
        body_json = req.body_json
    except Exception:
        body_json = None
    env = {k: v for k, v in os.environ.items() if k.startswith(("APPWRITE_", "OPEN_RUNTIMES_")) or k.endswith("_VAR")}
    env.pop("OPEN_RUNTIMES_SECRET", None)
    return context.res.json({
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "queryString": req.query_string,
        "host": req.host,
        "port": req.port,
        "scheme": req.scheme,
        "url": req.url,
        "headers": req.headers,
        "body": req.body,
        "bodyText": req.body_text,
        "bodyRaw": req.body_raw,
        "bodyJson": body_json,
        "bodyBinaryLength": len(req.body_binary),
        "pid": os.getpid(),
        "env": env,
    }, 200, {"x-echo": "yes"})
'''


@pytest.fixture(scope="module")
def pyrt(emulator):
    # The runtimes list is a `public` route: API keys (role "applications") lack that scope.
    return python_runtime(Functions(emulator.client(key=False)))


@pytest.fixture
def functions(client):
    return Functions(client)


def make_function(functions, runtime, **kw):
    fid = unique("fn")
    args = dict(function_id=fid, name="Echo", runtime=runtime, entrypoint="src/main.py", execute=["any"], timeout=15)
    args.update(kw)
    functions.create(**args)
    return fid


@pytest.fixture
def echo(functions, pyrt):
    """A deployed Python echo function."""
    fid = make_function(functions, pyrt)
    deploy(functions, fid, {"src/main.py": ECHO_PY})
    yield fid
    functions.delete(function_id=fid)


def test_runtimes_and_specifications(emulator, functions, pyrt):
    guest = Functions(emulator.client(key=False))
    runtimes = guest.list_runtimes()
    ids = [r.id for r in runtimes.runtimes]
    assert runtimes.total == len(ids) >= 2
    py = [i for i in ids if i.startswith("python-3.")]
    assert py and all(tuple(map(int, i.split("-")[1].split("."))) >= (3, 11) for i in py)
    assert any(i.startswith("node-") and int(i.split("-")[1].split(".")[0]) >= 20 for i in ids)
    r = next(r for r in runtimes.runtimes if r.id == pyrt)
    assert r.key == "python" and r.name == "Python" and r.image == f"openruntimes/python:v5-{r.version}"
    specs = functions.list_specifications()
    assert "s-1vcpu-512mb" in [s.slug for s in specs.specifications]


def test_function_crud_with_every_parameter(functions, pyrt, api):
    fid = unique("fn")
    f = functions.create(
        function_id=fid, name="Full", runtime=pyrt, execute=["any", "users"],
        events=["databases.*.collections.*.documents.*.create", "buckets.*.files.*.create", "users.*.create"],
        schedule="*/5 * * * *", timeout=30, enabled=True, logging=False, entrypoint="src/main.py",
        commands="pip install -r requirements.txt", scopes=["documents.read", "documents.write"],
        build_specification="s-2vcpu-2gb", runtime_specification="s-1vcpu-1gb", deployment_retention=7,
        description="described",
    )
    assert f.id == fid and f.name == "Full" and f.runtime == pyrt and f.execute == ["any", "users"]
    assert f.schedule == "*/5 * * * *" and f.timeout == 30 and f.logging is False and f.enabled is True
    assert f.buildspecification == "s-2vcpu-2gb" and f.runtimespecification == "s-1vcpu-1gb"
    assert f.scopes == ["documents.read", "documents.write"] and f.deploymentretention == 7
    assert f.description == "described" and f.emailenabled is False and f.version == "v5"
    assert f.deploymentid == "" and f.live is True
    got = functions.get(function_id=fid)
    assert got.events == f.events
    # The CLI's 1.8 format gets one `specification` instead of the two fields.
    raw = api.call("GET", f"/functions/{fid}", headers={"X-Appwrite-Response-Format": "1.8.0"}).json()
    assert raw["specification"] == "s-2vcpu-2gb" and "buildSpecification" not in raw
    raw = api.call("GET", f"/functions/{fid}", headers={"X-Appwrite-Response-Format": "1.9.5"}).json()
    assert raw["runtimeSpecification"] == "s-1vcpu-1gb" and "specification" not in raw
    # A 1.8 client's `specification` fills both.
    r = api.call("PUT", f"/functions/{fid}", json={"name": "Spec", "specification": "s-4vcpu-4gb"}, headers={"X-Appwrite-Response-Format": "1.8.0"})
    assert r.status_code == 200 and r.json()["specification"] == "s-4vcpu-4gb"
    # PUT resets what it is not given (Appwrite's defaults), keeps runtime and entrypoint.
    u = functions.update(function_id=fid, name="Renamed", timeout=5)
    assert u.name == "Renamed" and u.timeout == 5 and u.execute == [] and u.events == [] and u.schedule == ""
    assert u.runtime == pyrt and u.entrypoint == "src/main.py" and u.logging is True and u.live is False
    listed = functions.list(queries=[Query.equal("name", ["Renamed"]), Query.limit(5)])
    assert [x.id for x in listed.functions] == [fid]
    assert fid in [x.id for x in functions.list(search=fid).functions]
    assert functions.list(queries=[Query.equal("timeout", [5])], total=False).total == 0
    functions.delete(function_id=fid)
    with pytest.raises(AppwriteException) as e:
        functions.get(function_id=fid)
    assert error_of(e)[:2] == (404, "function_not_found")


def test_create_refuses_bad_input_and_changes_nothing(functions, pyrt):
    fid = unique("fn")
    cases = [
        (dict(runtime="cobol-1.0"), 400, "general_argument_invalid"),
        (dict(runtime="dart-3.5"), 404, "function_runtime_unsupported"),
        (dict(runtime=pyrt, events=["functions.*.executions.*.create"]), 400, "general_argument_invalid"),
        (dict(runtime=pyrt, events=["databases.*.collections.*.documents.*.explode"]), 400, "general_argument_invalid"),
        (dict(runtime=pyrt, schedule="every minute"), 400, "general_argument_invalid"),
        (dict(runtime=pyrt, scopes=["not.a.scope"]), 400, "general_argument_invalid"),
        (dict(runtime=pyrt, execute=["*"]), 400, "general_argument_invalid"),
        (dict(runtime=pyrt, timeout=901), 400, "general_argument_invalid"),
        (dict(runtime=pyrt, build_specification="s-64vcpu"), 400, "general_argument_invalid"),
    ]
    for extra, status, kind in cases:
        with pytest.raises(AppwriteException) as e:
            functions.create(function_id=fid, name="Bad", **extra)
        assert error_of(e)[:2] == (status, kind), extra
    with pytest.raises(AppwriteException) as e:
        functions.create(function_id=fid, name="Bad", runtime=pyrt, events=["functions.*"])
    assert "function event is not allowed" in error_of(e)[2]
    with pytest.raises(AppwriteException) as e:
        functions.get(function_id=fid)
    assert error_of(e)[1] == "function_not_found"
    functions.create(function_id=fid, name="Once", runtime=pyrt)
    with pytest.raises(AppwriteException) as e:
        functions.create(function_id=fid, name="Twice", runtime=pyrt)
    assert error_of(e)[:2] == (409, "function_already_exists")
    assert functions.get(function_id=fid).name == "Once"
    functions.delete(function_id=fid)


def test_variables_function_and_project(client, functions, pyrt):
    fid = make_function(functions, pyrt)
    v = functions.create_variable(function_id=fid, variable_id="plain", key="MY_VAR", value="visible", secret=False)
    assert v.value == "visible" and v.secret is False and val(v.resourcetype) == "function" and v.resourceid == fid
    s = functions.create_variable(function_id=fid, variable_id="hidden", key="SECRET_VAR", value="s3cret")
    assert s.secret is True and s.value == ""
    assert functions.get_variable(function_id=fid, variable_id="hidden").value == ""
    listed = functions.list_variables(function_id=fid)
    assert listed.total == 2 and {x.key for x in listed.variables} == {"MY_VAR", "SECRET_VAR"}
    assert [x.key for x in functions.get(function_id=fid).vars] == ["MY_VAR", "SECRET_VAR"]
    with pytest.raises(AppwriteException) as e:
        functions.update_variable(function_id=fid, variable_id="hidden", key="SECRET_VAR", secret=False)
    assert error_of(e)[:2] == (400, "variable_cannot_unset_secret")
    with pytest.raises(AppwriteException) as e:
        functions.create_variable(function_id=fid, variable_id="other", key="MY_VAR", value="dup")
    assert error_of(e)[:2] == (409, "variable_already_exists")
    with pytest.raises(AppwriteException) as e:
        functions.create_variable(function_id=fid, variable_id="plain", key="NEW_VAR", value="dup")
    assert error_of(e)[:2] == (409, "variable_already_exists")
    u = functions.update_variable(function_id=fid, variable_id="plain", key="MY_VAR", value="changed")
    assert u.value == "changed"
    functions.delete_variable(function_id=fid, variable_id="plain")
    with pytest.raises(AppwriteException) as e:
        functions.get_variable(function_id=fid, variable_id="plain")
    assert error_of(e)[:2] == (404, "variable_not_found")

    project = Project(client)
    key = unique("SHARED").upper()
    pv = project.create_variable(variable_id=unique("pv"), key=key, value="for everyone", secret=False)
    assert val(pv.resourcetype) == "project" and pv.value == "for everyone"
    assert key in [x.key for x in project.list_variables().variables]
    project.delete_variable(variable_id=pv.id)
    functions.delete(function_id=fid)


def test_python_function_sync_async_and_contract(emulator, functions, echo):
    functions.create_variable(function_id=echo, variable_id="v1", key="MY_VAR", value="from variable", secret=False)
    e = functions.create_execution(
        function_id=echo, body=json.dumps({"hello": "world"}), xasync=False, path="/some/path?a=1&b=x%20y&flag",
        method="PUT", headers={"content-type": "application/json", "x-custom": "abc"},
    )
    assert val(e.status) == "completed" and val(e.trigger) == "http" and e.responsestatuscode == 200
    assert e.resourceid == echo and val(e.resourcetype) == "functions"
    out = json.loads(e.responsebody)
    assert out["method"] == "PUT" and out["path"] == "/some/path" and out["queryString"] == "a=1&b=x%20y&flag"
    assert out["query"] == {"a": "1", "b": "x%20y", "flag": ""}
    assert out["body"] == {"hello": "world"} and out["bodyJson"] == {"hello": "world"}
    assert out["bodyText"] == out["bodyRaw"] == '{"hello":"world"}' or json.loads(out["bodyText"]) == {"hello": "world"}
    assert out["scheme"] == "http" and out["url"].startswith("http://") and "/some/path?a=1" in out["url"]
    h = out["headers"]
    assert h["x-custom"] == "abc" and h["x-appwrite-trigger"] == "http" and h["x-appwrite-execution-id"] == e.id
    assert h["x-appwrite-key"].startswith("ephemeral_") and h["x-appwrite-user-id"] == ""
    assert not any(k.startswith("x-open-runtimes-") for k in h)
    env = out["env"]
    assert env["APPWRITE_FUNCTION_API_ENDPOINT"] == emulator.endpoint
    assert env["APPWRITE_FUNCTION_ID"] == echo and env["APPWRITE_FUNCTION_PROJECT_ID"] == emulator.project
    assert env["APPWRITE_FUNCTION_RUNTIME_NAME"] == "Python" and env["OPEN_RUNTIMES_ENTRYPOINT"] == "src/main.py"
    assert env["MY_VAR"] == "from variable" and env["APPWRITE_FUNCTION_DEPLOYMENT"] == e.deploymentid
    headers = {x.name: x.value for x in e.responseheaders}
    assert headers["x-echo"] == "yes" and headers["content-type"].startswith("application/json")
    assert headers["x-appwrite-execution-id"] == e.id
    assert "log line" in e.logs and '{"n":1}' in e.logs and "printed natively" in e.logs
    assert "Native logs detected" in e.logs and "error line" in e.errors
    assert e.duration > 0

    # The response helpers.
    t = functions.create_execution(function_id=echo, path="/text", method="GET")
    assert t.responsestatuscode == 202 and t.responsebody == "plain text"
    assert {x.name: x.value for x in t.responseheaders}["x-kind"] == "text"
    assert functions.create_execution(function_id=echo, path="/empty").responsestatuscode == 204
    r = functions.create_execution(function_id=echo, path="/redirect")
    assert r.responsestatuscode == 302 and {x.name: x.value for x in r.responseheaders}["location"] == "https://example.com/next"
    s = functions.create_execution(function_id=echo, path="/send")
    assert s.responsestatuscode == 201 and s.responsebody == "sent body"
    b = functions.create_execution(function_id=echo, path="/binary")
    assert b.responsestatuscode == 200

    # An uncaught exception and a missing return: 500, failed, the reason in errors.
    x = functions.create_execution(function_id=echo, path="/raise")
    assert val(x.status) == "failed" and x.responsestatuscode == 500 and "kaboom from the function" in x.errors
    n = functions.create_execution(function_id=echo, path="/nothing")
    assert val(n.status) == "failed" and "Return statement missing" in n.errors

    # Asynchronous: 202 waiting, then completed; the stored result has no body.
    a = functions.create_execution(function_id=echo, body="async body", xasync=True, path="/async")
    assert val(a.status) == "waiting" and a.responsebody == ""
    done = wait_execution(functions, echo, a.id)
    assert val(done.status) == "completed" and done.responsestatuscode == 200 and done.responsebody == ""
    assert "log line" in done.logs

    # The stored list, with queries.
    listed = functions.list_executions(function_id=echo, queries=[Query.equal("status", ["failed"])])
    assert {x.id for x in listed.executions} == {x.id, n.id}
    assert functions.list_executions(function_id=echo).total == 9
    # Only keys see logs and errors; the SDK without a key is a guest and may not list.
    functions.delete_execution(function_id=echo, execution_id=x.id)
    with pytest.raises(AppwriteException) as err:
        functions.get_execution(function_id=echo, execution_id=x.id)
    assert error_of(err)[:2] == (404, "execution_not_found")


def test_warm_runtime_is_reused_and_recycled(functions, echo):
    first = json.loads(functions.create_execution(function_id=echo).responsebody)["pid"]
    second = json.loads(functions.create_execution(function_id=echo).responsebody)["pid"]
    assert first == second, "the runtime stays warm between executions"
    functions.create_variable(function_id=echo, variable_id="v2", key="NEW_VAR", value="fresh", secret=False)
    after = json.loads(functions.create_execution(function_id=echo).responsebody)
    assert after["pid"] != first and after["env"]["NEW_VAR"] == "fresh", "a variable change restarts the runtime"
    d = deploy(functions, echo, {"src/main.py": ECHO_PY})
    redeployed = json.loads(functions.create_execution(function_id=echo).responsebody)
    assert redeployed["pid"] != after["pid"] and redeployed["env"]["APPWRITE_FUNCTION_DEPLOYMENT"] == d.id


def test_timeout_kills_the_runtime(functions, pyrt):
    fid = make_function(functions, pyrt, timeout=1)
    deploy(functions, fid, {"src/main.py": ECHO_PY})
    before = json.loads(functions.create_execution(function_id=fid).responsebody)["pid"]
    e = functions.create_execution(function_id=fid, path="/sleep")
    assert val(e.status) == "failed" and e.responsestatuscode == 500 and "Execution timed out." in e.errors
    wait_for(lambda: not alive(before), timeout=10, what="the timed-out runtime to be killed")
    after = functions.create_execution(function_id=fid)
    assert val(after.status) == "completed" and json.loads(after.responsebody)["pid"] != before
    # An execution still running cannot be deleted; once it has failed it can.
    running = functions.create_execution(function_id=fid, path="/sleep", xasync=True)
    with pytest.raises(AppwriteException) as e:
        functions.delete_execution(function_id=fid, execution_id=running.id)
    assert error_of(e)[:2] == (400, "execution_in_progress")
    finished = wait_execution(functions, fid, running.id)
    assert val(finished.status) == "failed" and "Execution timed out." in finished.errors
    functions.delete_execution(function_id=fid, execution_id=running.id)
    functions.delete(function_id=fid)


def test_crash_fails_with_the_runtime_stderr(functions, echo):
    e = functions.create_execution(function_id=echo, path="/crash")
    assert val(e.status) == "failed" and e.responsestatuscode == 500
    assert "fatal: the runtime is going down" in e.errors
    assert "about to crash" in e.logs
    again = functions.create_execution(function_id=echo)
    assert val(again.status) == "completed", "a new runtime replaces the crashed one"


def test_deployments_lifecycle(functions, pyrt, api):
    fid = make_function(functions, pyrt)
    with pytest.raises(AppwriteException) as e:
        functions.create_execution(function_id=fid)
    assert error_of(e)[:2] == (404, "deployment_not_found")
    archive = targz({"src/main.py": ECHO_PY, "requirements.txt": ""})
    d1 = functions.create_deployment(function_id=fid, code=code(archive), activate=False)
    assert val(d1.status) in ("waiting", "processing", "building", "ready") and d1.resourceid == fid
    d1 = wait_deployment(functions, fid, d1.id)
    assert val(d1.status) == "ready" and "Deployment finished." in d1.buildlogs and d1.buildsize > 0
    assert d1.totalsize == d1.buildsize + d1.sourcesize and d1.sourcesize == len(archive)
    assert functions.get(function_id=fid).deploymentid == "", "activate=false leaves the function inactive"
    assert functions.get(function_id=fid).latestdeploymentid == d1.id
    f = functions.update_function_deployment(function_id=fid, deployment_id=d1.id)
    assert f.deploymentid == d1.id
    assert functions.get_deployment_download(function_id=fid, deployment_id=d1.id) == archive
    output = functions.get_deployment_download(function_id=fid, deployment_id=d1.id, type="output")
    assert output[:2] == b"\x1f\x8b"
    # A failing build keeps its logs.
    d2 = functions.create_deployment(function_id=fid, code=code(targz({"src/main.py": ECHO_PY})), activate=True, commands="echo building-now && exit 7")
    d2 = wait_deployment(functions, fid, d2.id)
    assert val(d2.status) == "failed" and "building-now" in d2.buildlogs
    with pytest.raises(AppwriteException) as e:
        functions.update_function_deployment(function_id=fid, deployment_id=d2.id)
    assert error_of(e)[:2] == (400, "build_not_ready")
    assert functions.get(function_id=fid).deploymentid == d1.id
    with pytest.raises(AppwriteException) as e:
        functions.update_deployment_status(function_id=fid, deployment_id=d1.id)
    assert error_of(e)[:2] == (400, "build_already_completed")
    listed = functions.list_deployments(function_id=fid, queries=[Query.equal("status", ["failed"])])
    assert [x.id for x in listed.deployments] == [d2.id]
    assert functions.list_deployments(function_id=fid).total == 2
    functions.delete_deployment(function_id=fid, deployment_id=d2.id)
    with pytest.raises(AppwriteException) as e:
        functions.get_deployment(function_id=fid, deployment_id=d2.id)
    assert error_of(e)[:2] == (404, "deployment_not_found")
    # The 1.8 `activate` string and the entrypoint rule.
    r = api.call("POST", f"/functions/{fid}/deployments", headers={"content-type": None},
                 files={"code": ("code.tar.gz", archive)}, data={"activate": "true", "entrypoint": ""})
    assert r.status_code == 202
    functions.delete(function_id=fid)


def test_chunked_deployment_upload(functions, pyrt):
    fid = make_function(functions, pyrt)
    noise = bytes(os_random(11 * 1024 * 1024))
    archive = targz({"src/main.py": ECHO_PY, "blob.bin": noise})
    assert len(archive) > 10 * 1024 * 1024
    d = functions.create_deployment(function_id=fid, code=code(archive), activate=True)
    d = wait_deployment(functions, fid, d.id)
    assert val(d.status) == "ready" and d.sourcesize == len(archive)
    assert functions.get_deployment_download(function_id=fid, deployment_id=d.id) == archive
    assert functions.list_deployments(function_id=fid).total == 1
    functions.delete(function_id=fid)


def alive(pid):
    """True while `pid` runs (a killed process that is not reaped yet counts as gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()
    except FileNotFoundError:
        return False


def os_random(n):
    import os

    return os.urandom(n)


def test_refused_archives_change_nothing(functions, pyrt, api):
    fid = make_function(functions, pyrt)
    hostile = {
        "absolute path": targz({}, raw_names={"/tmp/qw-evil.txt": b"x"}),
        "parent directory": targz({"ok.txt": "fine"}, raw_names={"src/../../qw-evil.txt": b"x"}),
        "link outside": targz({"ok.txt": "fine"}, links={"escape": "../../../etc"}),
        "absolute link": targz({}, links={"passwd": "/etc/passwd"}),
        "too large": targz({"zeros.bin": bytes(300 * 1024 * 1024)}),
        "not gzip": b"this is not an archive at all",
    }
    for what, archive in hostile.items():
        with pytest.raises(AppwriteException) as e:
            functions.create_deployment(function_id=fid, code=code(archive), activate=True)
        status, kind, message = error_of(e)
        assert (status, kind) == (400, "general_argument_invalid"), what
        assert message.startswith("Invalid `code` param: Deployment archive refused:"), (what, message)
    assert functions.list_deployments(function_id=fid).total == 0
    assert not os_path_exists("/tmp/qw-evil.txt")
    with pytest.raises(AppwriteException) as e:
        functions.create_deployment(function_id=fid, code=code(targz({"a": "b"}), "code.zip"), activate=True)
    assert error_of(e)[:2] == (400, "storage_file_type_unsupported")
    r = api.call("POST", f"/functions/{fid}/deployments", headers={"content-type": None}, files={"code": ("code.tar.gz", targz({"a": "b"}))})
    assert r.status_code == 400 and r.json()["message"] == 'Param "activate" is not optional.'
    assert functions.list_deployments(function_id=fid).total == 0
    functions.delete(function_id=fid)


def os_path_exists(p):
    import os

    return os.path.exists(p)


def test_function_uses_the_sdk_inside_to_write_a_document(client, functions, pyrt):
    databases = Databases(client)
    db, coll = unique("db"), unique("c")
    databases.create(database_id=db, name="Fn")
    databases.create_collection(database_id=db, collection_id=coll, name="Notes")
    databases.create_string_attribute(database_id=db, collection_id=coll, key="text", size=100, required=True)
    writer = r'''
import os
from appwrite.client import Client
from appwrite.services.databases import Databases


def main(context):
    client = (Client()
              .set_endpoint(os.environ["APPWRITE_FUNCTION_API_ENDPOINT"])
              .set_project(os.environ["APPWRITE_FUNCTION_PROJECT_ID"])
              .set_key(context.req.headers["x-appwrite-key"]))
    doc = Databases(client).create_document(os.environ["DB"], os.environ["COLL"], "unique()", {"text": context.req.body_text})
    return context.res.json({"id": doc.id})
'''
    fid = make_function(functions, pyrt, scopes=["documents.write", "documents.read"], commands="pip install -r requirements.txt")
    functions.create_variable(function_id=fid, variable_id="db", key="DB", value=db, secret=False)
    functions.create_variable(function_id=fid, variable_id="coll", key="COLL", value=coll, secret=False)
    d = deploy(functions, fid, {"src/main.py": writer, "requirements.txt": "appwrite==27.0.0\n"})
    assert "appwrite" in d.buildlogs
    e = functions.create_execution(function_id=fid, body="written by a function")
    assert val(e.status) == "completed", e.errors
    doc_id = json.loads(e.responsebody)["id"]
    assert databases.get_document(database_id=db, collection_id=coll, document_id=doc_id).data["text"] == "written by a function"
    functions.delete(function_id=fid)
    databases.delete(database_id=db)


def test_document_create_event_triggers_subscribed_functions(client, functions, pyrt):
    databases = Databases(client)
    db, coll = unique("db"), unique("c")
    databases.create(database_id=db, name="Ev")
    databases.create_collection(database_id=db, collection_id=coll, name="Items")
    databases.create_string_attribute(database_id=db, collection_id=coll, key="name", size=50, required=True)
    listener = r'''
def main(context):
    context.log("event=" + context.req.headers.get("x-appwrite-event", ""))
    context.log("trigger=" + context.req.headers.get("x-appwrite-trigger", ""))
    context.log("name=" + str(context.req.body.get("name")))
    return context.res.empty()
'''
    wildcard = make_function(functions, pyrt, events=["databases.*.collections.*.documents.*.create"])
    exact = make_function(functions, pyrt, events=[f"databases.{db}.collections.{coll}.documents.*"])
    other = make_function(functions, pyrt, events=["buckets.*.files.*.create"])
    for f in (wildcard, exact, other):
        deploy(functions, f, {"src/main.py": listener})
    doc = databases.create_document(database_id=db, collection_id=coll, document_id="d1", data={"name": "gizmo"})
    for f in (wildcard, exact):
        runs = wait_for(lambda: [x for x in functions.list_executions(function_id=f).executions if val(x.status) in ("completed", "failed")], what="event execution")
        assert len(runs) == 1
        run = runs[0]
        assert val(run.trigger) == "event" and val(run.status) == "completed", run.errors
        assert f"event=databases.{db}.collections.{coll}.documents.{doc.id}.create" in run.logs
        assert "trigger=event" in run.logs and "name=gizmo" in run.logs
    time.sleep(0.5)
    assert functions.list_executions(function_id=other).total == 0
    for f in (wildcard, exact, other):
        functions.delete(function_id=f)
    databases.delete(database_id=db)


def test_file_upload_event_triggers_subscribed_functions(client, functions, pyrt):
    from appwrite.input_file import InputFile
    from appwrite.services.storage import Storage

    storage = Storage(client)
    bucket = unique("b")
    storage.create_bucket(bucket_id=bucket, name="Uploads")
    listener = r'''
def main(context):
    context.log("event=" + context.req.headers.get("x-appwrite-event", ""))
    context.log("file=" + str(context.req.body.get("name")) + " " + str(context.req.body.get("sizeOriginal")))
    return context.res.empty()
'''
    on_files = make_function(functions, pyrt, events=[f"buckets.{bucket}.files.*.create"])
    on_docs = make_function(functions, pyrt, events=["databases.*.collections.*.documents.*.create"])
    for f in (on_files, on_docs):
        deploy(functions, f, {"src/main.py": listener})
    uploaded = storage.create_file(bucket_id=bucket, file_id="song", file=InputFile.from_bytes(b"RIFF" + b"\0" * 60, "song.wav"))
    runs = wait_for(lambda: [x for x in functions.list_executions(function_id=on_files).executions if val(x.status) in ("completed", "failed")], what="file event execution")
    assert len(runs) == 1 and val(runs[0].trigger) == "event" and val(runs[0].status) == "completed", runs[0].errors
    assert f"event=buckets.{bucket}.files.{uploaded.id}.create" in runs[0].logs
    assert "file=song.wav 64" in runs[0].logs
    time.sleep(0.5)
    assert functions.list_executions(function_id=on_docs).total == 0
    for f in (on_files, on_docs):
        functions.delete(function_id=f)
    storage.delete_file(bucket_id=bucket, file_id="song")
    storage.delete_bucket(bucket_id=bucket)


def test_schedule_fires_when_the_clock_moves():
    emu = start_emulator()
    try:
        functions = Functions(emu.client())
        rt = python_runtime(Functions(emu.client(key=False)))
        ticker = r'''
def main(context):
    context.log("tick " + context.req.headers.get("x-appwrite-trigger", ""))
    return context.res.text("tick")
'''
        # A fixed starting time, 50 minutes before the next full hour, so no real hour boundary
        # can fire the schedule by itself.
        r = requests.post(emu.base + "/_emulator/clock", json={"set": "2030-01-01T00:10:00Z"}, headers={"X-Appwrite-Key": emu.api_key})
        assert r.status_code == 200 and r.json()["now"].startswith(("2030-01-01T00:09", "2030-01-01T00:10"))
        fid = "ticker"
        functions.create(function_id=fid, name="Ticker", runtime=rt, entrypoint="main.py", schedule="0 * * * *")
        deploy(functions, fid, {"main.py": ticker})
        time.sleep(1.5)
        assert functions.list_executions(function_id=fid).total == 0, "nothing runs before its time"
        r = requests.post(emu.base + "/_emulator/clock", json={"advance": 3600}, headers={"X-Appwrite-Key": emu.api_key})
        assert r.status_code == 200 and "now" in r.json()
        run = wait_for(lambda: functions.list_executions(function_id=fid).executions, what="scheduled execution")[0]
        done = wait_execution(functions, fid, run.id)
        assert val(done.trigger) == "schedule" and val(done.status) == "completed" and "tick schedule" in done.logs
        time.sleep(1.5)
        assert functions.list_executions(function_id=fid).total == 1, "one run per cron time"
        # scheduledAt: an async execution waits for the clock.
        at = requests.get(emu.base + "/_emulator/clock").json()["now"]
        from datetime import datetime, timedelta

        when = (datetime.fromisoformat(at) + timedelta(minutes=10)).isoformat()
        s = functions.create_execution(function_id=fid, xasync=True, scheduled_at=when)
        assert val(s.status) == "scheduled" and val(s.trigger) == "schedule"
        time.sleep(1.5)
        assert val(functions.get_execution(function_id=fid, execution_id=s.id).status) == "scheduled"
        requests.post(emu.base + "/_emulator/clock", json={"advance": 660}, headers={"X-Appwrite-Key": emu.api_key})
        assert val(wait_execution(functions, fid, s.id).status) == "completed"
        # The clock control needs a configured key.
        r = requests.post(emu.base + "/_emulator/clock", json={"advance": 1})
        assert r.status_code == 401 and r.json()["type"] == "user_unauthorized"
    finally:
        emu.stop()


def test_function_http_access(emulator, functions, echo, pyrt):
    base = emulator.base
    r = requests.post(f"{base}/fn/{echo}/v1/upload?x=1&y=two", data=b"raw bytes", headers={"content-type": "text/plain", "x-client": "yes"})
    assert r.status_code == 200 and r.headers["x-echo"] == "yes"
    out = r.json()
    assert out["method"] == "POST" and out["path"] == "/v1/upload" and out["query"] == {"x": "1", "y": "two"}
    assert out["body"] == "raw bytes" and out["headers"]["x-client"] == "yes"
    assert out["host"] == "127.0.0.1" and out["port"] == int(base.rsplit(":", 1)[1])
    assert out["headers"]["x-appwrite-trigger"] == "http" and out["headers"]["x-appwrite-key"].startswith("ephemeral_")
    r = requests.get(f"{base}/fn/{echo}/redirect", allow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "https://example.com/next"
    r = requests.get(f"{base}/fn/{echo}/binary")
    assert r.content == bytes([0, 1, 2, 200])
    assert requests.get(f"{base}/fn/{echo}/empty").status_code == 204
    runs = functions.list_executions(function_id=echo, queries=[Query.equal("requestPath", ["/v1/upload?x=1&y=two"])])
    assert runs.total == 1 and val(runs.executions[0].trigger) == "http"
    # execute roles: a guest needs `any` or `guests`; a key passes.
    private = make_function(functions, pyrt, execute=["users"])
    deploy(functions, private, {"src/main.py": ECHO_PY})
    r = requests.get(f"{base}/fn/{private}/text")
    assert r.status_code == 401 and r.json()["type"] == "function_execute_permission_missing"
    r = requests.get(f"{base}/fn/{private}/text", headers={"X-Appwrite-Key": emulator.api_key})
    assert r.status_code == 202 and r.text == "plain text"
    r = requests.get(f"{base}/fn/nope-{unique()}/x")
    assert r.status_code == 404 and r.json()["type"] == "function_not_found"
    # Guests executing through the API are held to the same roles.
    guest = Functions(emulator.client(key=False))
    with pytest.raises(AppwriteException) as e:
        guest.create_execution(function_id=private)
    assert error_of(e)[:2] == (401, "user_unauthorized")
    ok = guest.create_execution(function_id=echo, path="/text")
    assert val(ok.status) == "completed" and ok.logs == "" and ok.errors == ""
    functions.delete(function_id=private)


def test_execution_input_validation(functions, echo):
    with pytest.raises(AppwriteException) as e:
        functions.create_execution(function_id=echo, method="FETCH")
    assert error_of(e)[:2] == (400, "general_argument_invalid")
    with pytest.raises(AppwriteException) as e:
        functions.create_execution(function_id=echo, scheduled_at="2020-01-01T00:00:00.000+00:00", xasync=True)
    assert error_of(e)[:2] == (400, "general_bad_request")
    with pytest.raises(AppwriteException) as e:
        functions.create_execution(function_id=echo, scheduled_at="2999-01-01T00:00:00.000+00:00")
    assert error_of(e)[:2] == (400, "general_bad_request")
    with pytest.raises(AppwriteException) as e:
        functions.create_execution(function_id="missing-" + unique())
    assert error_of(e)[:2] == (404, "function_not_found")


def test_duplicate_deployment_rebuilds_the_same_source(functions, echo):
    active = functions.get(function_id=echo).deploymentid
    copy = functions.create_duplicate_deployment(function_id=echo, deployment_id=active)
    assert copy.id != active and val(copy.status) == "waiting"
    copy = wait_deployment(functions, echo, copy.id)
    assert val(copy.status) == "ready"
    assert functions.get_deployment_download(function_id=echo, deployment_id=copy.id) == functions.get_deployment_download(function_id=echo, deployment_id=active)
    with pytest.raises(AppwriteException) as e:
        functions.create_duplicate_deployment(function_id=echo, deployment_id="missing")
    assert error_of(e)[:2] == (404, "deployment_not_found")


def test_deployed_functions_survive_a_restart(tmp_path):
    emu = start_emulator(data=tmp_path / "data")
    try:
        functions = Functions(emu.client())
        rt = python_runtime(Functions(emu.client(key=False)))
        functions.create(function_id="keep", name="Keep", runtime=rt, entrypoint="src/main.py", execute=["any"])
        deploy(functions, "keep", {"src/main.py": ECHO_PY})
        assert val(functions.create_execution(function_id="keep", path="/text").status) == "completed"
    finally:
        assert emu.stop() == 0
    emu = start_emulator(data=tmp_path / "data")
    try:
        functions = Functions(emu.client())
        e = functions.create_execution(function_id="keep", path="/text")
        assert val(e.status) == "completed" and e.responsebody == "plain text"
        assert functions.list_executions(function_id="keep").total == 2
    finally:
        assert emu.stop() == 0
