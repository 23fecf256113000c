"""Audio recognised by content and measured from the audio, in every accepted format."""

import pytest

from shared import audio
from shared.utils import ApiError

EXPECTED = {
    "wav": "wav", "flac": "flac", "ogg_vorbis": "ogg", "ogg_opus": "ogg", "mp3": "mp3",
    "m4a": "m4a", "mp4": "mp4", "webm": "webm", "webm_live": "webm",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_every_format_is_recognised_and_measured(tones, kind):
    data = tones[kind].read_bytes()
    info = audio.inspect(data)
    assert info.format == EXPECTED[kind]
    # Encoders pad a little (MP3 and AAC frames, Opus pre-skip): 2.5 s within 0.15 s.
    assert info.duration_seconds == pytest.approx(2.5, abs=0.15)
    assert info.extension in ("wav", "flac", "ogg", "mp3", "m4a", "mp4", "webm")
    assert info.mime_type.startswith("audio/")


def test_the_name_does_not_matter(tones):
    """Detection never looks at a name: WAV bytes are WAV whatever the caller called them."""
    assert audio.detect(tones["wav"].read_bytes()) == "wav"
    assert audio.detect(tones["flac"].read_bytes()) == "flac"


def _elements(data, pos, end):
    while pos < end:
        ident, size, body = audio._element(data, pos)
        yield pos, ident, size, body
        if size == audio.UNKNOWN:
            return
        pos = body + size


def _unknown_size_clusters(data):
    """The same WebM with every Cluster's size rewritten as 'unknown' (all ones, same width), the
    way live muxers write clusters before they know how long they will be."""
    data = bytearray(data)
    _, size, pos = audio._element(data, 0)
    ident, seg_size, seg_body = audio._element(data, pos + size)
    assert ident == audio.SEGMENT
    end = len(data) if seg_size == audio.UNKNOWN else seg_body + seg_size
    for start, ident, size, body in list(_elements(bytes(data), seg_body, end)):
        if ident == audio.CLUSTER:
            width = body - start - 4  # 4-byte cluster ID, then the size vint
            data[start + 4] = (0x80 >> (width - 1)) | ((1 << (8 - width)) - 1)
            for i in range(1, width):
                data[start + 4 + i] = 0xFF
    return bytes(data)


def test_webm_without_duration_is_measured_from_its_blocks(tones):
    live = tones["webm_live"].read_bytes()
    ident, size, pos = audio._element(live, 0)
    _, seg_size, seg_body = audio._element(live, pos + size)
    assert seg_size == audio.UNKNOWN
    info = [audio._info(live, b, b + s, 1) for _, i, s, b in _elements(live, seg_body, len(live)) if i == audio.INFO]
    assert info and info[0][1] is None, "the live muxer writes no Duration"
    assert audio.webm_duration(live) == pytest.approx(2.5, abs=0.1)
    streamed = _unknown_size_clusters(live)
    assert streamed != live
    assert audio.webm_duration(streamed) == pytest.approx(audio.webm_duration(live), abs=1e-9)


@pytest.mark.parametrize("data", [
    b"",
    b"hello, this is text and not audio",
    b"%PDF-1.7 not audio",
    b"\x89PNG\r\n\x1a\n" + bytes(100),
    b"\x1a\x45\xdf\xa3\x84\x42\x82\x81\x78",  # EBML, but DocType "x" (not WebM)
    bytes([0xFF, 0xF1, 0x50, 0x80]) + bytes(60),  # ADTS AAC: MPEG sync, but layer 0
])
def test_what_is_not_accepted_audio_is_refused_as_unsupported(data):
    with pytest.raises(ApiError) as e:
        audio.inspect(data)
    assert (e.value.code, e.value.status) == ("unsupported_media_type", 415)


@pytest.mark.parametrize("kind", ["wav", "flac", "mp3", "m4a", "ogg_vorbis", "webm"])
def test_a_cut_or_empty_file_is_invalid_audio(tones, kind):
    data = tones[kind].read_bytes()
    with pytest.raises(ApiError) as e:
        audio.inspect(data[:40])
    assert (e.value.code, e.value.status) == ("invalid_audio", 422)


def test_a_wav_with_no_samples_is_invalid(tmp_path):
    import subprocess

    empty = tmp_path / "empty.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(empty), "trim", "0", "0"], check=True)
    with pytest.raises(ApiError) as e:
        audio.inspect(empty.read_bytes())
    assert e.value.code == "invalid_audio"
