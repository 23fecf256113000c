#!/usr/bin/env python3
"""Storage throughput of the emulator over loopback: a 100 MiB file uploaded exactly as the SDKs
send it (5 MiB multipart chunks, inclusive `Content-Range`, the first chunk alone, then up to 8 in
parallel with `x-appwrite-id`), then downloaded; plus the emulator's resident memory at rest
before, after serving it, and its peak, from /proc/<pid>/status.

Usage: bench/storage_bench.py [--qw target/release/qw] [--size-mib 100] [--rounds 3] [--json]
Prints a report; `--json` prints the numbers as JSON instead. Needs `requests`.
"""

import argparse
import hashlib
import json
import os
import pathlib
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from common import machine

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHUNK = 5 * 1024 * 1024
PROJECT = "bench"




def cpu_seconds(pid):
    """User + system CPU time a process has used (/proc/<pid>/stat, fields 14 and 15)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu():
    t = os.times()
    return t.user + t.system


def load_average():
    return float(pathlib.Path("/proc/loadavg").read_text().split()[0])


def status_kib(pid, field):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Emulator:
    def __init__(self, qw, data_dir, limit):
        self.key = "standard_" + secrets.token_hex(32)
        env = dict(os.environ, _APP_STORAGE_LIMIT=str(limit))
        self.proc = subprocess.Popen(
            [qw, "emulator", "--port", "0", "--data", data_dir, "--project", PROJECT, "--api-key", self.key],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("emulator listening on "):
            self.proc.kill()
            raise SystemExit(f"unexpected first line: {line!r}")
        self.endpoint = line[len("emulator listening on ") :]
        self.headers = {"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": self.key}

    def rss_kib(self):
        return status_kib(self.proc.pid, "VmRSS")

    def peak_kib(self):
        return status_kib(self.proc.pid, "VmHWM")

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


_local = threading.local()


def session():
    """One keep-alive connection per uploading thread, as the SDK's requests would reuse."""
    if not hasattr(_local, "s"):
        _local.s = requests.Session()
    return _local.s


def send_chunk(emu, bucket, file_id, data, start, size, upload_id):
    end = min(start + CHUNK, size)
    headers = dict(emu.headers)
    headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
    if upload_id:
        headers["x-appwrite-id"] = upload_id
    r = session().post(
        f"{emu.endpoint}/storage/buckets/{bucket}/files",
        headers=headers,
        data={"fileId": file_id},
        files={"file": ("bench.bin", data[start:end])},
    )
    r.raise_for_status()
    return r.json()


def upload(emu, bucket, file_id, data):
    """The SDKs' chunked upload: the first chunk alone, then the rest 8 at a time."""
    size = len(data)
    starts = list(range(0, size, CHUNK))
    first = send_chunk(emu, bucket, file_id, data, 0, size, None)
    done = [first]
    with ThreadPoolExecutor(max_workers=8) as pool:
        done += list(pool.map(lambda s: send_chunk(emu, bucket, file_id, data, s, size, first["$id"]), starts[1:]))
    final = [r for r in done if r["chunksUploaded"] >= r["chunksTotal"]]
    assert len(final) == 1, "exactly one chunk completes the upload"
    return final[0]


def download(emu, bucket, file_id, digest=False):
    h = hashlib.sha256() if digest else None
    n = 0
    with session().get(f"{emu.endpoint}/storage/buckets/{bucket}/files/{file_id}/download", headers=emu.headers, stream=True) as r:
        r.raise_for_status()
        for block in r.iter_content(chunk_size=1024 * 1024):
            n += len(block)
            if h:
                h.update(block)
    return n, (h.hexdigest() if h else None)


def run(args):
    size = args.size_mib * 1024 * 1024
    data = os.urandom(size)
    expected = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory(prefix="qw-bench-") as data_dir:
        emu = Emulator(args.qw, data_dir, limit=2 * size)
        try:
            requests.post(f"{emu.endpoint}/storage/buckets", headers=emu.headers, json={"bucketId": "bench", "name": "Bench"}).raise_for_status()
            time.sleep(0.5)
            rss_start = emu.rss_kib()
            up, down, up_cpu, down_cpu, client_cpu, loads = [], [], [], [], [], [load_average()]
            for i in range(args.rounds):
                file_id = f"f{i}"
                c0, t0, me0 = emu.cpu(), time.perf_counter(), own_cpu()
                final = upload(emu, "bench", file_id, data)
                up.append(size / (time.perf_counter() - t0) / 1e6)
                up_cpu.append(emu.cpu() - c0)
                client_cpu.append(own_cpu() - me0)
                assert final["sizeOriginal"] == size and final["signature"] == hashlib.md5(data).hexdigest()
                c0, t0 = emu.cpu(), time.perf_counter()
                n, _ = download(emu, "bench", file_id)
                down.append(n / (time.perf_counter() - t0) / 1e6)
                down_cpu.append(emu.cpu() - c0)
                assert n == size
                loads.append(load_average())
            n, digest = download(emu, "bench", "f0", digest=True)
            assert digest == expected, "downloaded bytes differ from the upload"
            time.sleep(1.0)
            result = {
                "machine": machine(),
                "file_bytes": size,
                "rounds": args.rounds,
                "upload_mb_per_s": {"median": round(statistics.median(up), 1), "best": round(max(up), 1), "all": [round(x, 1) for x in up]},
                "download_mb_per_s": {"median": round(statistics.median(down), 1), "best": round(max(down), 1), "all": [round(x, 1) for x in down]},
                # CPU the emulator spent per file, and the rate that would give on one free core:
                # a figure that does not depend on what else the machine is running.
                "emulator_cpu_s": {"upload": round(statistics.median(up_cpu), 3), "download": round(statistics.median(down_cpu), 3)},
                # The Python client shares the same cores: its own CPU per upload.
                "client_cpu_s_upload": round(statistics.median(client_cpu), 3),
                "mb_per_emulator_cpu_s": {
                    "upload": round(size / 1e6 / max(statistics.median(up_cpu), 1e-3), 1),
                    "download": round(size / 1e6 / max(statistics.median(down_cpu), 1e-3), 1),
                },
                "load_average_1m": loads,
                "rss_kib": {"idle_before": rss_start, "idle_after_serving": emu.rss_kib(), "peak": emu.peak_kib()},
                "byte_identical": True,
            }
        finally:
            emu.stop()
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--qw", default=str(ROOT / "target" / "release" / "qw"))
    p.add_argument("--size-mib", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if not pathlib.Path(args.qw).exists():
        sys.exit(f"{args.qw} not found: build it with `cargo build --release -p studio`")
    r = run(args)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    m = r["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']}")
    print(f"file: {r['file_bytes']:,} bytes, {r['rounds']} rounds, byte-identical: {r['byte_identical']}")
    print(f"upload   MB/s: median {r['upload_mb_per_s']['median']}, best {r['upload_mb_per_s']['best']} ({r['upload_mb_per_s']['all']})")
    print(f"download MB/s: median {r['download_mb_per_s']['median']}, best {r['download_mb_per_s']['best']} ({r['download_mb_per_s']['all']})")
    cpu, rate = r["emulator_cpu_s"], r["mb_per_emulator_cpu_s"]
    print(f"emulator CPU per file: upload {cpu['upload']} s ({rate['upload']} MB per CPU-second), download {cpu['download']} s ({rate['download']} MB per CPU-second)")
    print(f"client (Python requests) CPU per upload: {r['client_cpu_s_upload']} s")
    print(f"1-minute load average during the run: {r['load_average_1m']}")
    rss = r["rss_kib"]
    print(f"RSS: idle {rss['idle_before'] / 1024:.1f} MiB before, {rss['idle_after_serving'] / 1024:.1f} MiB idle after serving, peak {rss['peak'] / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
