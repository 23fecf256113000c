"""What the Python benchmarks share: the machine they ran on, the `qw` binary they measure, and
percentiles."""

import os
import pathlib
import platform
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def machine():
    """CPU model, core count, RAM, kernel and Python of this machine, from /proc."""
    cpu, mem_kib = "unknown", 0
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
                break
    except OSError:
        pass
    ram_gib = round(mem_kib / 1024 / 1024, 1)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": ram_gib,
        "ram": f"{ram_gib:.1f} GiB" if mem_kib else "unknown",
        "python": platform.python_version(),
        "system": platform.system(),
        "kernel": platform.release(),
    }


def qw_binary():
    """QW_BIN, else the release build, else the debug build."""
    if os.environ.get("QW_BIN"):
        return pathlib.Path(os.environ["QW_BIN"])
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "qw"
        if p.exists():
            return p
    sys.exit("no qw binary: run `cargo build --release -p studio` or set QW_BIN")


def shown(path):
    """A path as the reports print it: relative to the repository when inside it."""
    path = pathlib.Path(path)
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def percentile(samples, p):
    """The p-th percentile, interpolated between the two nearest samples."""
    s = sorted(samples)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
