"""aica.speech.audio: formats sniffed from bytes, bad files refused with clear codes, decoding."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest

from aica.errors import BadInput, UnsupportedMediaType
from aica.speech.audio import SAMPLE_RATE, decode, probe
from tests.audio import AudioFactory, Turn, read_wav, transcode, wav_seconds

TEXT = "Thank you for calling. Your order has been shipped and will arrive on Friday."
FORMATS = ["wav", "mp3", "ogg", "flac", "m4a"]
CODECS = {"wav": "pcm_s16le", "mp3": "mp3float", "ogg": "opus", "flac": "flac", "m4a": "aac"}


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture(scope="module")
def seconds(audio: AudioFactory) -> float:
    return wav_seconds(audio.speech(TEXT))


def reason(exc: pytest.ExceptionInfo[BadInput]) -> str:
    return str(exc.value.extensions["reason"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_probe_detects_each_format_from_the_bytes(
    fmt: str, audio: AudioFactory, seconds: float, tmp_path: Path
) -> None:
    # given a file named as if it were something else
    source = audio.encoded(TEXT, fmt)
    misleading = tmp_path / ("call.wav" if fmt != "wav" else "call.mp3")
    shutil.copyfile(source, misleading)
    unnamed = tmp_path / "upload"
    shutil.copyfile(source, unnamed)

    for path in (source, misleading, unnamed):
        info = probe(path)
        assert info.format == fmt
        assert info.duration == pytest.approx(seconds, abs=0.1)
        assert info.channels == 1
        assert info.codec == CODECS[fmt]
        assert info.sample_rate == (48_000 if fmt == "ogg" else 22_050)


def test_probe_reports_stereo(audio: AudioFactory) -> None:
    call = audio.call([Turn(0, 0.2, "Hello."), Turn(1, 1.5, "Hi there.")])
    info = probe(audio.convert(call, "flac"))
    assert (info.format, info.channels) == ("flac", 2)
    assert info.duration == pytest.approx(wav_seconds(call), abs=0.1)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixels = zlib.compress(b"".join(b"\x00" + bytes(8) for _ in range(8)))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def silent_video(path: Path, *, with_audio: bool) -> Path:
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=22_050) if with_audio else None
        if sound is not None:
            sound.codec_context.layout = "mono"
            sound.codec_context.format = "fltp"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), "rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
            if sound is not None:
                samples = np.zeros((1, 1024), np.float32)
                chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 22_050, i * 1024
                for packet in sound.encode(chunk):
                    out.mux(packet)
        for stream in (video, sound):
            if stream is not None:
                for packet in stream.encode(None):
                    out.mux(packet)
    return path


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"This is a text file, not audio.\n" * 50, id="text"),
        pytest.param(png_bytes(), id="png"),
        pytest.param(os.urandom(64 * 1024), id="random-bytes"),
        pytest.param(b"%PDF-1.4\n" + b"0" * 2000, id="pdf-ish"),
    ],
)
def test_probe_rejects_what_is_not_audio_with_415(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "recording.wav"  # the name claims WAV; the bytes decide
    path.write_bytes(content)
    with pytest.raises(UnsupportedMediaType) as exc:
        probe(path)
    assert exc.value.extensions["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "WAV, MP3, OGG, FLAC or M4A" in exc.value.message


@pytest.mark.parametrize("with_audio", [False, True], ids=["video-only", "video-with-audio"])
def test_probe_rejects_video(with_audio: bool, tmp_path: Path) -> None:
    path = silent_video(tmp_path / "clip.m4a", with_audio=with_audio)
    with pytest.raises(UnsupportedMediaType):
        probe(path)


def test_probe_rejects_a_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(BadInput) as exc:
        probe(path)
    assert reason(exc) == "empty"
    with pytest.raises(BadInput) as exc:
        decode(path, split_channels=False)
    assert reason(exc) == "empty"


def test_probe_rejects_a_wav_without_samples(audio: AudioFactory, tmp_path: Path) -> None:
    header = bytearray(audio.speech(TEXT).read_bytes()[:44])
    struct.pack_into("<I", header, 40, 0)  # data chunk of 0 bytes
    path = tmp_path / "nothing.wav"
    path.write_bytes(bytes(header))
    with pytest.raises(BadInput) as exc:
        probe(path)
    assert reason(exc) == "empty"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [0.6, 0.05])
def test_probe_and_decode_detect_a_truncated_file(
    fmt: str, keep: float, audio: AudioFactory, tmp_path: Path
) -> None:
    # given an upload cut short (a dropped connection)
    data = audio.encoded(TEXT, fmt).read_bytes()
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(BadInput) as exc:
        probe(path)
    assert reason(exc) == "truncated", exc.value.message
    assert "truncated" in exc.value.message
    with pytest.raises(BadInput) as exc:
        decode(path, split_channels=False)
    assert reason(exc) == "truncated"


def test_an_ogg_stream_cut_at_a_page_boundary_is_truncated(
    audio: AudioFactory, tmp_path: Path
) -> None:
    data = audio.encoded(TEXT, "ogg").read_bytes()
    pages = [i for i in range(len(data)) if data.startswith(b"OggS", i)]
    path = tmp_path / "cut.ogg"
    path.write_bytes(data[: pages[len(pages) // 2]])  # whole pages, but no end-of-stream page
    with pytest.raises(BadInput) as exc:
        probe(path)
    assert reason(exc) == "truncated"


def test_a_truncated_m4a_with_its_index_first_is_detected(
    audio: AudioFactory, tmp_path: Path
) -> None:
    # given an M4A written "fast start" (moov index before the audio), then cut
    source = audio.speech(TEXT)
    full = tmp_path / "faststart.m4a"
    with (
        av.open(str(source)) as inp,
        av.open(str(full), "w", format="ipod", options={"movflags": "faststart"}) as out,
    ):
        stream = out.add_stream("aac", rate=22_050)
        stream.codec_context.layout, stream.codec_context.format = "mono", "fltp"
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=22_050, frame_size=1024)
        for frame in [*inp.decode(audio=0), None]:
            for chunk in resampler.resample(frame):
                for packet in stream.encode(chunk):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    data = full.read_bytes()
    assert data[:64].find(b"moov") > 0
    assert probe(full).format == "m4a"

    path = tmp_path / "cut.m4a"
    path.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(BadInput) as exc:
        probe(path)
    assert reason(exc) == "truncated"


@pytest.mark.parametrize(
    ("fmt", "prefix"),
    [("wav", 12), ("mp3", 0), ("flac", 8192)],
    ids=["riff-header-then-noise", "id3-then-noise", "flac-header-then-noise"],
)
def test_probe_rejects_undecodable_audio(
    fmt: str, prefix: int, audio: AudioFactory, tmp_path: Path
) -> None:
    # given a file that starts like an accepted format and then holds no decodable audio
    head = audio.encoded(TEXT, fmt).read_bytes()[:prefix] if prefix else b"ID3\x03" + bytes(6)
    path = tmp_path / f"broken.{fmt}"
    path.write_bytes(head + np.random.default_rng(1).bytes(20_000))
    with pytest.raises(BadInput) as exc:
        probe(path)
    assert reason(exc) == "undecodable"


@pytest.mark.parametrize("fmt", FORMATS)
def test_decode_returns_16khz_mono_of_the_right_length(
    fmt: str, audio: AudioFactory, seconds: float
) -> None:
    (samples,) = decode(audio.encoded(TEXT, fmt), split_channels=False)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert len(samples) / SAMPLE_RATE == pytest.approx(seconds, abs=0.1)
    assert 0.01 < float(np.abs(samples).max()) <= 1.0
    # the same number of channels whether split or not, for mono
    assert len(decode(audio.encoded(TEXT, fmt), split_channels=True)) == 1


def test_decode_splits_stereo_channels(audio: AudioFactory) -> None:
    # given a call: agent talks on the left first, customer on the right later
    call = audio.call([Turn(0, 0.0, "Good morning."), Turn(1, 3.0, "Hello.")], seconds=5)
    source, _ = read_wav(call)

    left, right = decode(audio.convert(call, "flac"), split_channels=True)
    assert len(left) == len(right)
    assert len(left) / SAMPLE_RATE == pytest.approx(wav_seconds(call), abs=0.1)

    def energy(samples: np.ndarray, start: float, stop: float) -> float:
        part = samples[int(start * SAMPLE_RATE) : int(stop * SAMPLE_RATE)]
        return float(np.sqrt(np.mean(np.square(part))))

    first, later = (0.0, 2.5), (3.0, 4.0)
    assert energy(left, *first) > 0.01 and energy(right, *first) < 0.001
    assert energy(right, *later) > 0.01 and energy(left, *later) < 0.001

    # the mixdown is the average of the channels (no clipping, no -3 dB pan law)
    (mixed,) = decode(audio.convert(call, "flac"), split_channels=False)
    np.testing.assert_allclose(mixed, (left + right) / 2, atol=2e-3)
    assert np.abs(mixed).max() == pytest.approx(np.abs(source).max() / 2, rel=0.1)


def test_transcoding_keeps_stereo_in_every_format(audio: AudioFactory, tmp_path: Path) -> None:
    call = audio.call([Turn(0, 0.0, "Yes."), Turn(1, 1.0, "No.")])
    for fmt in FORMATS:
        path = transcode(call, tmp_path / f"call.{fmt}", fmt) if fmt != "wav" else call
        assert probe(path).channels == 2
        assert len(decode(path, split_channels=True)) == 2
