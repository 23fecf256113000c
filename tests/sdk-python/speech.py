"""Test speech: sentences spoken by espeak-ng, resampled to 16 kHz mono by sox, and a lenient
word check for what an ASR model (the tiny English Whisper) heard."""

import difflib
import pathlib
import re
import shutil
import subprocess

# (sentence, content words it must come back with); tiny.en mishears a word now and then, so a
# sentence passes when most of its content words are heard (see `heard`).
SENTENCES = [
    ("The weather in Paris is sunny and warm today.", ["weather", "paris", "sunny", "warm", "today"]),
    ("Please send the invoice to the accounting department before Friday.", ["send", "invoice", "accounting", "department", "friday"]),
    ("Seven students went to the library to study chemistry.", ["seven", "students", "library", "study", "chemistry"]),
    ("My favourite colour is green, and I like to play the piano.", ["favourite", "colour", "green", "play", "piano"]),
]


def tools_present():
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    assert not missing, f"{', '.join(missing)} missing: run scripts/setup.sh (it installs espeak-ng and sox)"


def speak(text, path, pad=0.3, rate=16000, channels=1):
    """Writes `text` spoken by espeak-ng to `path` (WAV), `pad` seconds of silence each side."""
    tools_present()
    path = pathlib.Path(path)
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(rate), "-c", str(channels), str(path), "pad", str(pad), str(pad)], check=True)
    raw.unlink()
    return path


def convert(src, dst):
    """sox conversion by extension (flac, ogg, wav)."""
    subprocess.run(["sox", str(src), str(dst)], check=True)
    return pathlib.Path(dst)


def duration(path):
    return float(subprocess.run(["soxi", "-D", str(path)], check=True, capture_output=True, text=True).stdout)


def words_of(text):
    return re.findall(r"[a-z0-9']+", text.lower())


def heard(expected, transcript):
    """The expected words that appear in `transcript`, allowing a near miss per word
    (jump/jumps, piano/biano): similarity ratio of at least 0.8."""
    got = words_of(transcript)
    return [w for w in expected if any(difflib.SequenceMatcher(None, w, g).ratio() >= 0.8 for g in got)]


def assert_heard(expected, transcript, at_least=0.6):
    found = heard(expected, transcript)
    assert len(found) >= max(2, round(at_least * len(expected))), f"heard {found} of {expected} in {transcript!r}"
    return found
