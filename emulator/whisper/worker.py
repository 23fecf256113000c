"""The emulator's local Whisper engine: a long-lived faster-whisper process.

The emulator embeds this file in its binary, writes it to a private temporary folder and runs it
with the configured Python (`--whisper-python`). It speaks line-delimited JSON:

- once, on start: `{"event": "ready", ...}` after the model loaded, or `{"event": "failed",
  "message": ...}` and exit status 1;
- then, per line read on stdin `{"id", "audio", "language", "prompt", "temperature",
  "word_timestamps"}` (`audio` is a file path), exactly one line
  `{"id", "ok": true, "language", "duration", "segments", "words"}` or
  `{"id", "ok": false, "error": "invalid_audio" | "too_short" | "engine", "message"}`.

It exits when stdin closes (the emulator stopped). Nothing else may reach stdout: the protocol
keeps the original stdout and every other write (Python or C++) goes to stderr.
"""

import json
import os
import sys
import time

# Keep the protocol stream to ourselves before any library can print on it.
_protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

# Whisper must never reach for a model hub: the emulator runs offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Shorter than this, Whisper has nothing to work on; the OpenAI API refuses it the same way.
MIN_SECONDS = 0.1
SAMPLE_RATE = 16000


def send(message):
    _protocol.write(json.dumps(message, ensure_ascii=False) + "\n")
    _protocol.flush()


def parse_args(argv):
    args = {"model": None, "compute_type": "int8", "cpu_threads": 0}
    i = 0
    while i < len(argv):
        name = argv[i].lstrip("-").replace("-", "_")
        if name not in args or i + 1 >= len(argv):
            raise SystemExit(f"usage: worker.py --model DIR [--compute-type T] [--cpu-threads N] (got {argv[i]!r})")
        args[name] = argv[i + 1]
        i += 2
    if not args["model"]:
        raise SystemExit("usage: worker.py --model DIR")
    args["cpu_threads"] = int(args["cpu_threads"])
    return args


def load(args):
    model_dir = args["model"]
    # faster-whisper takes a name that is not a folder for a hub model id and downloads it.
    if not os.path.isfile(os.path.join(model_dir, "model.bin")):
        raise RuntimeError(f"{model_dir} is not a CTranslate2 Whisper model folder (no model.bin)")
    import faster_whisper
    from faster_whisper import WhisperModel

    started = time.monotonic()
    model = WhisperModel(
        model_dir,
        device="cpu",
        compute_type=args["compute_type"],
        cpu_threads=args["cpu_threads"],
        local_files_only=True,
    )
    return model, {
        "event": "ready",
        "model": model_dir,
        "multilingual": bool(model.model.is_multilingual),
        "faster_whisper": faster_whisper.__version__,
        "compute_type": args["compute_type"],
        "load_seconds": round(time.monotonic() - started, 3),
        "pid": os.getpid(),
    }


def transcribe(model, job):
    from faster_whisper import decode_audio

    try:
        audio = decode_audio(job["audio"], sampling_rate=SAMPLE_RATE)
    except Exception as e:  # PyAV raises a family of errors for what it cannot demux or decode
        return {"ok": False, "error": "invalid_audio", "message": f"{type(e).__name__}: {e}"}
    duration = len(audio) / SAMPLE_RATE
    if duration < MIN_SECONDS:
        return {"ok": False, "error": "too_short", "message": f"decoded {duration:.3f} s of audio"}

    temperature = float(job.get("temperature") or 0.0)
    # OpenAI: 0 lets the model raise the temperature by itself when decoding fails thresholds.
    temperatures = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if temperature == 0 else [temperature]
    words_wanted = bool(job.get("word_timestamps"))
    segments, info = model.transcribe(
        audio,
        language=job.get("language") or None,
        initial_prompt=job.get("prompt") or None,
        temperature=temperatures,
        word_timestamps=words_wanted,
    )
    out, words = [], []
    for i, s in enumerate(segments):
        out.append(
            {
                "id": i,
                "seek": int(s.seek),
                "start": round(float(s.start), 3),
                "end": round(float(s.end), 3),
                "text": s.text,
                "tokens": [int(t) for t in s.tokens],
                "temperature": float(s.temperature),
                "avg_logprob": float(s.avg_logprob),
                "compression_ratio": float(s.compression_ratio),
                "no_speech_prob": float(s.no_speech_prob),
            }
        )
        for w in s.words or []:
            words.append({"word": w.word.strip(), "start": round(float(w.start), 3), "end": round(float(w.end), 3)})
    return {
        "ok": True,
        "language": info.language,
        "duration": round(float(info.duration), 3),
        "segments": out,
        "words": words if words_wanted else None,
    }


def main():
    try:
        args = parse_args(sys.argv[1:])
        model, ready = load(args)
    except BaseException as e:  # noqa: BLE001 - any start failure is reported, then we exit
        send({"event": "failed", "message": f"{type(e).__name__}: {e}"})
        sys.exit(1)
    send(ready)
    for line in sys.stdin:
        if not line.strip():
            continue
        job_id = None
        try:
            job = json.loads(line)
            job_id = job.get("id")
            result = transcribe(model, job)
        except Exception as e:  # noqa: BLE001 - one bad job must not take the worker down
            result = {"ok": False, "error": "engine", "message": f"{type(e).__name__}: {e}"}
        result["id"] = job_id
        send(result)


if __name__ == "__main__":
    main()
