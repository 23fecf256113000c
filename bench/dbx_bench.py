"""Benchmark: bulk create of 10,000 documents (100 calls of 100) and a transaction of 100
operations (staged one by one on the write routes, or in one `createOperations` call, then
committed), against the emulator's release build.

    cargo build --release -p studio
    .venv/bin/python bench/dbx_bench.py [--qw target/release/qw] [--runs 5] [--disk]

Prints a Markdown table. HTTP goes through one keep-alive `requests.Session`, so the numbers are
the emulator's (plus loopback), not an SDK's.
"""

import argparse
import os
import pathlib
import secrets
import statistics
import subprocess
import tempfile
import time

import requests

import common

ROOT = pathlib.Path(__file__).resolve().parents[1]


class Emulator:
    def __init__(self, qw, disk):
        self.key = "standard_" + secrets.token_hex(32)
        self.tmp = tempfile.TemporaryDirectory(prefix="qw-bench-") if disk else None
        store = ["--data", self.tmp.name] if disk else ["--in-memory"]
        self.proc = subprocess.Popen([qw, "emulator", "--port", "0", "--project", "bench", "--api-key", self.key, *store],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        self.endpoint = line.split("emulator listening on ", 1)[1]
        self.http = requests.Session()
        self.http.headers.update({"X-Appwrite-Project": "bench", "X-Appwrite-Key": self.key, "content-type": "application/json"})

    def call(self, method, path, body=None, expect=(200, 201, 202, 204)):
        r = self.http.request(method, self.endpoint + path, json=body)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.tmp:
            self.tmp.cleanup()


def table(emu, db, tid):
    emu.call("POST", f"/tablesdb/{db}/tables", {"tableId": tid, "name": tid})
    emu.call("POST", f"/tablesdb/{db}/tables/{tid}/columns/varchar", {"key": "title", "size": 64, "required": True})
    emu.call("POST", f"/tablesdb/{db}/tables/{tid}/columns/integer", {"key": "n", "required": False})


def bulk_create(emu, db, run):
    tid = f"bulk{run}"
    table(emu, db, tid)
    latencies = []
    start = time.perf_counter()
    for call in range(100):
        rows = [{"$id": f"r{call}_{i}", "title": f"row {call}/{i}", "n": call * 100 + i} for i in range(100)]
        t0 = time.perf_counter()
        out = emu.call("POST", f"/tablesdb/{db}/tables/{tid}/rows", {"rows": rows})
        latencies.append(time.perf_counter() - t0)
        assert out["total"] == 100
    total = time.perf_counter() - start
    # `total` stops counting at 5000, as Appwrite's does
    assert emu.call("GET", f"/tablesdb/{db}/tables/{tid}/rows?queries[0]=" + requests.utils.quote('{"method":"limit","values":[1]}'))["total"] == 5000
    return total, latencies


def transaction(emu, db, run, batched):
    tid = f"txn{run}{'b' if batched else 'r'}"
    table(emu, db, tid)
    emu.call("POST", f"/tablesdb/{db}/tables/{tid}/rows", {"rows": [{"$id": f"u{i}", "title": "x", "n": 0} for i in range(50)]})
    txn = emu.call("POST", "/tablesdb/transactions", {"ttl": 600})["$id"]
    ops = [{"action": "create", "databaseId": db, "tableId": tid, "rowId": f"c{i}", "data": {"title": "new", "n": i}} for i in range(50)]
    ops += [{"action": "update", "databaseId": db, "tableId": tid, "rowId": f"u{i}", "data": {"n": i}} for i in range(25)]
    ops += [{"action": "increment", "databaseId": db, "tableId": tid, "rowId": f"u{i}", "data": {"column": "n", "value": 1}} for i in range(25, 50)]
    t0 = time.perf_counter()
    if batched:
        emu.call("POST", f"/tablesdb/transactions/{txn}/operations", {"operations": ops})
    else:
        for o in ops:
            base = f"/tablesdb/{db}/tables/{tid}/rows"
            if o["action"] == "create":
                emu.call("POST", base, {"rowId": o["rowId"], "data": o["data"], "transactionId": txn})
            elif o["action"] == "update":
                emu.call("PATCH", f"{base}/{o['rowId']}", {"data": o["data"], "transactionId": txn})
            else:
                emu.call("PATCH", f"{base}/{o['rowId']}/n/increment", {"value": 1, "transactionId": txn})
    staged = time.perf_counter() - t0
    t1 = time.perf_counter()
    done = emu.call("PATCH", f"/tablesdb/transactions/{txn}", {"commit": True})
    committed = time.perf_counter() - t1
    assert done["status"] == "committed" and done["operations"] == 100
    return staged, committed


def ms(s):
    return f"{s * 1000:.1f} ms"




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qw", default=str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "qw"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--disk", action="store_true", help="a --data folder (WAL on disk) instead of --in-memory")
    args = ap.parse_args()
    emu = Emulator(args.qw, args.disk)
    try:
        emu.call("POST", "/tablesdb", {"databaseId": "bench", "name": "bench"})
        bulk, calls, routed, batched = [], [], [], []
        for run in range(args.runs):
            total, lat = bulk_create(emu, "bench", run)
            bulk.append(total)
            calls.extend(lat)
            routed.append(transaction(emu, "bench", run, batched=False))
            batched.append(transaction(emu, "bench", run, batched=True))
    finally:
        emu.stop()
    calls.sort()
    m = common.machine()
    print(f"machine: {m['cpu']}, {m['nproc']} cores, {m['system']} {m['kernel']}, Python {m['python']}; store: {'disk (--data, WAL)' if args.disk else '--in-memory'}; runs: {args.runs} (median)\n")
    print("| scenario | median | rate |")
    print("|---|---|---|")
    b = statistics.median(bulk)
    print(f"| bulk create 10,000 rows (100 calls × 100) | {ms(b)} | {10000 / b:,.0f} rows/s |")
    print(f"| one bulk call of 100 rows (p50 / p95) | {ms(calls[len(calls) // 2])} / {ms(calls[int(len(calls) * 0.95)])} | |")
    for name, runs in [("100 operations staged on the routes (100 requests)", routed), ("100 operations staged in one createOperations call", batched)]:
        s = statistics.median(r[0] for r in runs)
        c = statistics.median(r[1] for r in runs)
        print(f"| transaction: {name} | stage {ms(s)} + commit {ms(c)} | {100 / (s + c):,.0f} ops/s |")


if __name__ == "__main__":
    main()
