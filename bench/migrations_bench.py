"""Migrations benchmark (`make bench`): 100 generated migrations replayed through the real `qw`
binary on an in-memory emulator. Prints a Markdown section (contract of scripts/bench.sh).

usage: migrations_bench.py PATH_TO_QW
"""

import argparse
import json
import os
import pathlib
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
COUNT = 100
RUNS = 3


def generate(project):
    """100 migrations over 10 collections: creates, attributes, indexes, updates, data steps."""
    shutil.rmtree(project / "migrations")
    (project / "migrations").mkdir()
    for f in (project / "schemas" / "collections").glob("*.json"):
        f.unlink()
    for n in range(1, COUNT + 1):
        c = f"bench_{(n - 1) // 10}"
        i = (n - 1) % 10
        if i == 0:
            up = [{"op": "create_collection", "collection": c, "name": c, "documentSecurity": True, "permissions": [], "attributes": [
                {"key": "owner", "type": "string", "size": 36, "required": True},
                {"key": "created_at", "type": "datetime", "required": True},
                {"key": "state", "type": "string", "format": "enum", "elements": ["new", "done"], "required": False},
            ], "indexes": [{"key": "idx_owner", "type": "key", "attributes": ["owner", "created_at"], "orders": ["ASC", "DESC"]}]}]
        elif i % 3 == 1:
            up = [{"op": "create_attribute", "collection": c, "attribute": {"key": f"n{i}", "type": "integer", "required": False, "min": 0, "default": 0}},
                  {"op": "create_index", "collection": c, "index": {"key": f"idx_n{i}", "type": "key", "attributes": [f"n{i}"]}}]
        elif i % 3 == 2:
            up = [{"op": "create_attribute", "collection": c, "attribute": {"key": f"s{i}", "type": "string", "size": 64, "required": False}},
                  {"op": "copy_attribute", "collection": c, "from": "owner", "to": f"s{i}"}]
        else:
            # The default of `state` goes null → new → done → null over i = 3, 6, 9.
            before, after = {3: (None, "new"), 6: ("new", "done"), 9: ("done", None)}[i]
            up = [{"op": "update_attribute", "collection": c, "key": "state", "set": {"default": after}, "from": {"default": before}}]
        path = project / "migrations" / f"{n:03d}_step_{n}.json"
        path.write_text(json.dumps({"$schema": "../schemas/json/migration.schema.json", "up": up}, indent=2) + "\n")


def timed(cmd, env):
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return elapsed


def main():
    ap = argparse.ArgumentParser(description="qw migrate up/down/check and schema generate on a project with many migrations")
    ap.add_argument("--qw", default=str(ROOT / "target" / "release" / "qw"))
    qw = ap.parse_args().qw
    with tempfile.TemporaryDirectory() as tmp:
        project = pathlib.Path(tmp)
        for d in ["environments", "templates", "functions", "schemas", "migrations"]:
            shutil.copytree(ROOT / d, project / d, ignore=shutil.ignore_patterns("__pycache__", "node_modules", ".venv"))
        generate(project)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QW_")}
        env["QW_NO_KEYCHAIN"] = "1"
        base = [qw, "--project-dir", str(project)]
        # schemas/ from the migrations, so the check below compares equal schemas.
        generate_s = timed(base + ["schema", "generate"], env)

        ups = []
        for _ in range(RUNS):
            key = "standard_" + secrets.token_hex(32)
            emu = subprocess.Popen([qw, "emulator", "--port", "0", "--in-memory", "--project", "bench", "--api-key", key], stdout=subprocess.PIPE, text=True)
            endpoint = emu.stdout.readline().strip().removeprefix("emulator listening on ")
            run_env = dict(env, QW_DEV_ENDPOINT=endpoint, QW_DEV_PROJECT="bench", QW_DEV_API_KEY=key)
            ups.append(timed(base + ["migrate", "up", "dev"], run_env))
            emu.terminate()
            emu.wait(timeout=30)
        checks = [timed(base + ["migrate", "check"], env) for _ in range(RUNS)]

    steps = "1 to 2 steps each (collections with 3 attributes and an index, attributes, indexes, attribute updates, copy_attribute data steps)"
    print("## Migrations")
    print()
    print(f"{COUNT} generated migrations over 10 collections, {steps}; real `qw` processes, loopback HTTP, in-memory emulator. Median of {RUNS}.")
    print()
    print("| what | median | target |")
    print("|---|---|---|")
    print(f"| `qw migrate up dev`: replay of {COUNT} migrations on a fresh `qw emulator --in-memory` (with history, lock, per-step progress) | {statistics.median(ups):.2f} s | ≤ 2 s |")
    print(f"| `qw migrate check`: in-process emulator; dev replayed with up → down → compare → up for each migration, staging and prod replayed up, all compared with schemas/ | {statistics.median(checks):.2f} s | |")
    print(f"| `qw schema generate`: three replays, schemas/ written | {generate_s:.2f} s | |")


if __name__ == "__main__":
    main()
