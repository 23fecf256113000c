"""Function execution latency on the emulator: cold (fresh runtime process) and warm (the warm
runtime reused), beside calling the same Python function directly in a Python process.

Runs the real `qw emulator` (QW_BIN, else target/release/qw, else target/debug/qw), deploys one
Python function from a tar.gz made here, and times synchronous executions through the REST API
(`POST /v1/functions/{id}/executions`, what the SDKs call) and through function HTTP access
(`/fn/{id}/`). Writes bench/results/functions.md. Targets: warm overhead <= 5 ms, cold <= 300 ms.

    .venv/bin/python bench/functions_bench.py [--warm N] [--cold N]
"""

import argparse
import io
import json
import pathlib
import secrets
import statistics
import subprocess
import tarfile
import time
import types

import requests

from common import machine, percentile, qw_binary, shown

ROOT = pathlib.Path(__file__).resolve().parents[1]
FUNCTION = '''
def main(context):
    return context.res.json({"ok": True, "path": context.req.path})
'''






def summary(samples):
    return {"p50": percentile(samples, 50) * 1000, "p99": percentile(samples, 99) * 1000, "n": len(samples)}


def direct_samples(n):
    """The function called in-process with a minimal open-runtimes-like context."""
    module = types.ModuleType("bench_fn")
    exec(FUNCTION, module.__dict__)

    class Res:
        def json(self, obj, status=200, headers=None):
            return {"body": json.dumps(obj, separators=(",", ":")).encode(), "statusCode": status, "headers": headers or {}}

    class Req:
        path = "/"

    ctx = types.SimpleNamespace(req=Req(), res=Res())
    out = []
    for _ in range(n):
        t = time.perf_counter()
        module.main(ctx)
        out.append(time.perf_counter() - t)
    return out




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--warm", type=int, default=300)
    ap.add_argument("--cold", type=int, default=25)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "functions.md"))
    args = ap.parse_args()

    qw = qw_binary()
    key = "standard_" + secrets.token_hex(32)
    proc = subprocess.Popen([str(qw), "emulator", "--port", "0", "--in-memory", "--project", "bench", "--api-key", key],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = proc.stdout.readline().strip().split(" ")[-1]
        base = endpoint[: -len("/v1")]
        s = requests.Session()
        s.headers.update({"X-Appwrite-Project": "bench", "X-Appwrite-Key": key, "content-type": "application/json"})
        runtimes = requests.get(endpoint + "/functions/runtimes", headers={"X-Appwrite-Project": "bench"}).json()["runtimes"]
        runtime = sorted(r["$id"] for r in runtimes if r["$id"].startswith("python-"))[-1]
        s.post(endpoint + "/functions", json={"functionId": "bench", "name": "Bench", "runtime": runtime,
                                              "entrypoint": "main.py", "execute": ["any"]}).raise_for_status()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            data = FUNCTION.encode()
            info = tarfile.TarInfo("main.py")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        r = requests.post(endpoint + "/functions/bench/deployments", headers={"X-Appwrite-Project": "bench", "X-Appwrite-Key": key},
                          files={"code": ("code.tar.gz", buf.getvalue())}, data={"activate": "true"})
        r.raise_for_status()
        deployment = r.json()["$id"]
        while s.get(endpoint + f"/functions/bench/deployments/{deployment}").json()["status"] not in ("ready", "failed"):
            time.sleep(0.1)
        while s.get(endpoint + "/functions/bench").json()["deploymentId"] != deployment:
            time.sleep(0.05)

        def execute():
            t = time.perf_counter()
            r = s.post(endpoint + "/functions/bench/executions", json={"path": "/"})
            elapsed = time.perf_counter() - t
            assert r.status_code == 201 and r.json()["status"] == "completed", r.text
            return elapsed

        # Cold: a variable change recycles the runtime, so the next execution starts a process.
        cold = []
        s.post(endpoint + "/functions/bench/variables", json={"variableId": "n", "key": "N", "value": "0", "secret": False}).raise_for_status()
        for i in range(args.cold):
            s.put(endpoint + "/functions/bench/variables/n", json={"key": "N", "value": str(i + 1)}).raise_for_status()
            cold.append(execute())

        for _ in range(20):
            execute()
        warm = [execute() for _ in range(args.warm)]

        fn = requests.Session()
        for _ in range(20):
            fn.get(base + "/fn/bench/")
        domain = []
        for _ in range(args.warm):
            t = time.perf_counter()
            r = fn.get(base + "/fn/bench/")
            domain.append(time.perf_counter() - t)
            assert r.status_code == 200

        # The emulator's own floor: a cheap authenticated API call on the same connection.
        for _ in range(20):
            s.get(endpoint + "/functions/bench")
        floor = []
        for _ in range(args.warm):
            t = time.perf_counter()
            s.get(endpoint + "/functions/bench").raise_for_status()
            floor.append(time.perf_counter() - t)
        direct = direct_samples(args.warm * 10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    rows = {
        "direct call in a Python process": summary(direct),
        "API round trip without a function (GET /functions/{id})": summary(floor),
        "warm execution (POST /v1/functions/{id}/executions)": summary(warm),
        "warm function HTTP access (GET /fn/{id}/)": summary(domain),
        "cold execution (new runtime process)": summary(cold),
    }
    d50 = rows["direct call in a Python process"]["p50"]
    warm_overhead = rows["warm execution (POST /v1/functions/{id}/executions)"]["p50"] - d50
    domain_overhead = rows["warm function HTTP access (GET /fn/{id}/)"]["p50"] - d50
    cold50 = rows["cold execution (new runtime process)"]["p50"]
    m = machine()
    lines = [
        "## Functions: execution latency",
        "",
        f"Measured by `bench/functions_bench.py` with `{shown(qw)}`, runtime `{runtime}`, "
        f"{args.warm} warm and {args.cold} cold samples, client and emulator on the same machine (loopback).",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, Linux {m['kernel']}, Python {m['python']}.",
        "",
        "| what | p50 (ms) | p99 (ms) | samples |",
        "|---|---:|---:|---:|",
    ]
    for name, v in rows.items():
        lines.append(f"| {name} | {v['p50']:.3f} | {v['p99']:.3f} | {v['n']} |")
    lines += [
        "",
        f"- Warm overhead (warm execution p50 − direct call p50): **{warm_overhead:.2f} ms** (target ≤ 5 ms) — "
        f"{'met' if warm_overhead <= 5 else 'NOT met'}. Through `/fn/`: {domain_overhead:.2f} ms.",
        f"- Cold execution p50: **{cold50:.1f} ms** (target ≤ 300 ms) — {'met' if cold50 <= 300 else 'NOT met'}. "
        "A cold sample starts the runtime process (interpreter, harness, user module import) on the first request after a recycle.",
        "- The warm figure includes the whole API path: HTTP parsing, key check, SQLite reads of the function and deployment, "
        "the ephemeral key, the hop to the runtime over loopback HTTP, the log files, and the SQLite write of the execution.",
        "",
    ]
    pathlib.Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
