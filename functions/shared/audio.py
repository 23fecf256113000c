"""Audio recognised by its content, never by its name, and its duration measured from the audio.

WAV, MP3, M4A/MP4, OGG (Vorbis, Opus, FLAC, Speex) and FLAC go through `mutagen` (pure Python,
~1 MB, no native code). WebM is Matroska, which mutagen does not read; rather than ship PyAV
(a 30+ MB FFmpeg build) to every upload function, `webm_duration` walks the EBML elements: the
Segment's Duration when the muxer wrote one, else the last block's timestamp (browsers'
MediaRecorder streams have no Duration and clusters of unknown size).
"""

import io
import struct
from dataclasses import dataclass

import mutagen
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from .utils import ApiError

# format -> (file extension, MIME type)
FORMATS = {
    "wav": ("wav", "audio/wav"),
    "mp3": ("mp3", "audio/mpeg"),
    "m4a": ("m4a", "audio/mp4"),
    "mp4": ("mp4", "audio/mp4"),
    "ogg": ("ogg", "audio/ogg"),
    "webm": ("webm", "audio/webm"),
    "flac": ("flac", "audio/flac"),
}
SUPPORTED = "WAV, MP3, M4A/MP4, OGG, WebM or FLAC"


@dataclass(frozen=True)
class AudioInfo:
    """What the audio is and how long it plays."""

    format: str
    duration_seconds: float

    @property
    def extension(self):
        return FORMATS[self.format][0]

    @property
    def mime_type(self):
        return FORMATS[self.format][1]


def _skip_id3(data):
    """The offset after a leading ID3v2 tag (MP3 and some FLAC files carry one)."""
    if len(data) >= 10 and data[:3] == b"ID3":
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        footer = 10 if data[5] & 0x10 else 0
        return 10 + size + footer
    return 0


def _is_mpeg_audio_frame(head):
    """An MPEG-1/2/2.5 audio frame header (layer I-III; ADTS AAC, whose layer bits are 00, is not)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0x03
    return version != 0x01 and layer != 0 and bitrate not in (0, 0x0F) and rate != 0x03


def detect(data: bytes):
    """The format of `data` by its magic bytes, or None."""
    if len(data) >= 12 and data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        brand = data[8:12]
        return "m4a" if brand in (b"M4A ", b"M4B ", b"M4P ") else "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if _ebml_doctype(data) == "webm" else None
    start = _skip_id3(data)
    if data[start:start + 4] == b"fLaC":
        return "flac"
    if _is_mpeg_audio_frame(data[start:start + 4]):
        return "mp3"
    if start and start >= len(data):
        return "mp3"  # an ID3v2 tag (MP3's) with the audio cut off: mutagen will say what is wrong
    return None


def inspect(data: bytes) -> AudioInfo:
    """The format and duration of `data`; 415 `unsupported_media_type` or 422 `invalid_audio`."""
    fmt = detect(data)
    if fmt is None:
        raise ApiError("unsupported_media_type", f"The file is not audio this service accepts ({SUPPORTED}); it is recognised by its content, not its name.")
    try:
        seconds = webm_duration(data) if fmt == "webm" else _mutagen_duration(fmt, data)
    except (mutagen.MutagenError, ValueError, struct.error, IndexError, EOFError) as e:
        raise ApiError("invalid_audio", f"The {fmt.upper()} audio could not be read: {e}") from None
    if seconds is None or not seconds > 0:
        raise ApiError("invalid_audio", f"The {fmt.upper()} file holds no audio of measurable length.")
    return AudioInfo(fmt, float(seconds))


def _mutagen_duration(fmt, data):
    kinds = {
        "wav": [WAVE],
        "mp3": [MP3],
        "m4a": [MP4],
        "mp4": [MP4],
        "ogg": [OggVorbis, OggOpus, OggFLAC, OggSpeex],
        "flac": [FLAC],
    }[fmt]
    audio = mutagen.File(io.BytesIO(data), options=kinds)
    if audio is None or audio.info is None:
        raise ValueError("no audio stream found")
    if fmt in ("m4a", "mp4") and not _mp4_has_audio(audio):
        raise ValueError("the MP4 container has no audio track")
    return audio.info.length


def _mp4_has_audio(audio):
    codec = getattr(audio.info, "codec", "") or ""
    return bool(codec) and getattr(audio.info, "channels", 0) > 0


# --- EBML (WebM) ---------------------------------------------------------------------------

EBML = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
CLUSTER = 0x1F43B675
CLUSTER_TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
BLOCK_DURATION = 0x9B
# Children a cluster may hold; any other ID ends a cluster of unknown size.
CLUSTER_CHILDREN = {CLUSTER_TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP, 0xA7, 0xAB, 0x5854, 0xAF}
UNKNOWN = -1


def _vint(data, pos, keep_marker):
    """An EBML variable-length integer at `pos`: (value, next position)."""
    first = data[pos]
    if first == 0:
        raise ValueError("invalid EBML length")
    length = 1
    mask = 0x80
    while not first & mask:
        mask >>= 1
        length += 1
    value = first if keep_marker else first & (mask - 1)
    all_ones = (first & (mask - 1)) == mask - 1
    for b in data[pos + 1:pos + length]:
        value = (value << 8) | b
        all_ones = all_ones and b == 0xFF
    if pos + length > len(data):
        raise ValueError("truncated EBML element")
    if not keep_marker and all_ones:
        return UNKNOWN, pos + length
    return value, pos + length


def _element(data, pos):
    """(id, size or UNKNOWN, start of payload)."""
    ident, pos = _vint(data, pos, keep_marker=True)
    size, pos = _vint(data, pos, keep_marker=False)
    return ident, size, pos


def _uint(payload):
    return int.from_bytes(payload, "big") if payload else 0


def _ebml_doctype(data):
    try:
        ident, size, pos = _element(data, 0)
        end = len(data) if size == UNKNOWN else min(len(data), pos + size)
        while pos < end:
            ident, size, pos = _element(data, pos)
            if ident == DOC_TYPE:
                return data[pos:pos + size].rstrip(b"\0").decode("ascii", "replace")
            pos += max(size, 0)
    except (ValueError, IndexError):
        return None
    return None


def webm_duration(data: bytes):
    """Seconds of a WebM file: the Segment Info's Duration, else the last block's timestamp
    plus one frame (the gap between the last two blocks)."""
    ident, size, pos = _element(data, 0)
    if ident != EBML:
        raise ValueError("not an EBML file")
    pos += size
    ident, size, pos = _element(data, pos)
    if ident != SEGMENT:
        raise ValueError("no Segment after the EBML header")
    end = len(data) if size == UNKNOWN else min(len(data), pos + size)
    scale = 1_000_000
    declared = None
    blocks = _Blocks()
    while pos < end:
        ident, size, body = _element(data, pos)
        if ident == INFO:
            scale, declared = _info(data, body, body + size, scale)
            pos = body + size
        elif ident == CLUSTER:
            pos = _cluster(data, body, size, end, blocks)
        elif size == UNKNOWN:
            raise ValueError("an element of unknown size outside a cluster")
        else:
            pos = body + size
    if declared:
        return declared * scale / 1e9
    return blocks.end() * scale / 1e9 if blocks.count else None


class _Blocks:
    """The latest block times seen (timecode units), for the end of a file without Duration."""

    def __init__(self):
        self.count = 0
        self.last = 0
        self.previous = 0
        self.explicit_end = 0

    def add(self, start, duration=0):
        self.count += 1
        if start >= self.last:
            self.previous, self.last = self.last, start
        self.explicit_end = max(self.explicit_end, start + duration)

    def end(self):
        frame = self.last - self.previous if self.count > 1 else 0
        return max(self.last + frame, self.explicit_end)


def _info(data, pos, end, scale):
    duration = None
    while pos < end:
        ident, size, body = _element(data, pos)
        payload = data[body:body + size]
        if ident == TIMECODE_SCALE:
            scale = _uint(payload) or scale
        elif ident == DURATION:
            duration = struct.unpack(">f" if size == 4 else ">d", payload)[0]
        pos = body + size
    return scale, duration


def _block_time(data, body):
    """The relative timestamp of a (Simple)Block: after the track number vint, a signed int16."""
    _, pos = _vint(data, body, keep_marker=False)
    return struct.unpack(">h", data[pos:pos + 2])[0]


def _cluster(data, pos, size, segment_end, blocks):
    """Walks one cluster, noting its blocks; returns the position after it."""
    end = segment_end if size == UNKNOWN else min(segment_end, pos + size)
    base = 0
    while pos < end:
        ident, child_size, body = _element(data, pos)
        if size == UNKNOWN and ident not in CLUSTER_CHILDREN:
            return pos
        if child_size == UNKNOWN:
            raise ValueError("a cluster child of unknown size")
        if ident == CLUSTER_TIMECODE:
            base = _uint(data[body:body + child_size])
        elif ident == SIMPLE_BLOCK and child_size >= 4:
            blocks.add(base + _block_time(data, body))
        elif ident == BLOCK_GROUP:
            start, duration = _group(data, body, body + child_size)
            blocks.add(base + start, duration)
        pos = body + child_size
    return pos


def _group(data, pos, end):
    start, duration = 0, 0
    while pos < end:
        ident, size, body = _element(data, pos)
        if ident == BLOCK and size >= 4:
            start = _block_time(data, body)
        elif ident == BLOCK_DURATION:
            duration = _uint(data[body:body + size])
        pos = body + size
    return start, duration
