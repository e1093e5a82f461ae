"""Audio probing and decoding with PyAV (the FFmpeg libraries its wheels bundle).

``probe`` decides from the bytes, never the file name, whether a file is a recording AICA
accepts: WAV, MP3, OGG (Vorbis, Opus, ...), FLAC or M4A (AAC/ALAC in an MP4 container holding
no video). Anything else is :class:`~aica.errors.UnsupportedMediaType` (415). A file in one of
those formats that cannot be used is :class:`~aica.errors.BadInput` with ``reason``:

``empty``
    zero bytes, or a valid container holding no audio at all;
``truncated``
    the file ends before the audio its own header or index announces: a WAV ``data`` chunk
    longer than the file, an MP4 box running past the end of the file (typically a cut
    ``mdat`` with the ``moov`` index lost), an Ogg stream whose last page is cut or lacks the
    end-of-stream flag, or packets ending more than ``max(0.5 s, 2 %)`` before the duration
    the container declares (MP3 Xing/Info frame count, FLAC STREAMINFO sample count, MP4
    sample tables). A cut file whose container records no total length (a plain CBR MP3
    without an Info frame) is indistinguishable from a shorter recording and is accepted
    with the audio it holds;
``undecodable``
    the container is recognised but none of its audio can be decoded;
``too_long`` / ``too_many_channels``
    over :class:`Limits` (a few kilobytes of FLAC can announce hours of many-channel silence).

Damaged data that makes the demuxer lose the stream before the announced end reads as
``truncated`` too (the message says "truncated or damaged" where it cannot tell).

``probe`` reads every packet header (about 0.5 s an hour of MP3) but decodes only the first
seconds; ``decode`` decodes everything and raises the same errors.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import av
import av.error
import numpy as np
import numpy.typing as npt

from aica.errors import BadInput, UnsupportedMediaType

AudioFormat = Literal["wav", "mp3", "ogg", "flac", "m4a"]
SAMPLE_RATE = 16_000
"""Rate of the arrays ``decode`` returns (what Whisper takes)."""

ACCEPTED = "WAV, MP3, OGG, FLAC or M4A"
_DEMUXERS: dict[str, AudioFormat] = {
    "wav": "wav",
    "mp3": "mp3",
    "ogg": "ogg",
    "flac": "flac",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
}
_PROBE_DECODE_SECONDS = 3.0
"""Audio ``probe`` decodes to prove the stream is decodable."""


@dataclass(frozen=True)
class Limits:
    """What ``probe`` accepts: bounds the memory and CPU one recording can cost downstream."""

    max_seconds: float = 4 * 3600.0
    max_channels: int = 8


@dataclass(frozen=True)
class AudioInfo:
    format: AudioFormat
    duration: float
    """Seconds."""
    channels: int
    sample_rate: int
    codec: str
    """FFmpeg's decoder name, e.g. ``pcm_s16le``, ``mp3float``, ``opus``, ``aac``."""


def probe(path: str | os.PathLike[str], limits: Limits = Limits()) -> AudioInfo:
    """What the file at ``path`` holds; raises if it is not usable audio (see the module doc)."""
    path = Path(path)
    with _open(path) as (container, fmt):
        stream = container.streams.audio[0]
        _check_channels(stream.channels, limits)
        declared = _declared_duration(container, stream)
        _check_seconds(declared or 0.0, limits)
        end_pts = 0  # in the stream's time base: integers in the loop, seconds once at the end
        packets = decoded = 0
        decode_error: av.error.FFmpegError | None = None
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the flush packet demux yields at the end
                packets += 1
                if packet.pts is not None:
                    end_pts = max(end_pts, packet.pts + (packet.duration or 0))
                if decoded < _PROBE_DECODE_SECONDS * (stream.rate or SAMPLE_RATE):
                    try:
                        decoded += sum(frame.samples for frame in packet.decode())
                    except av.error.FFmpegError as exc:
                        decode_error = exc
        except av.error.FFmpegError as exc:
            if packets == 0:
                raise _undecodable(exc) from exc
            raise BadInput(
                "The audio file is truncated or damaged: reading stopped after "
                f"{_seconds(end_pts, stream):.1f} s ({exc.strerror})",
                reason="truncated",
            ) from exc
        if packets == 0:
            if declared:  # the header announces audio that isn't there in readable form
                raise _undecodable(decode_error)
            raise BadInput("The audio file holds no audio", reason="empty")
        if decoded == 0:
            raise _undecodable(decode_error)
        end = _seconds(end_pts, stream)
        _check_length(declared, end)
        duration = min(declared, end) if declared and end else (declared or end)
        _check_seconds(max(declared or 0.0, end), limits)  # a header may understate
        return AudioInfo(
            format=fmt,
            duration=round(duration, 3),
            channels=stream.channels,
            sample_rate=stream.rate,
            codec=stream.codec_context.name,
        )


def channel_count(path: str | os.PathLike[str]) -> int:
    """Channels of the file's audio stream (``decode`` mixes down more than two)."""
    with _open(Path(path)) as (container, _fmt):
        return int(container.streams.audio[0].channels)


def _seconds(pts: int, stream: Any) -> float:
    return float(pts * stream.time_base) if stream.time_base is not None else 0.0


def decode(path: str | os.PathLike[str], *, split_channels: bool) -> list[npt.NDArray[np.float32]]:
    """The audio as float32 arrays at 16 kHz in [-1, 1].

    With ``split_channels`` one array per channel of a stereo file, else (and always for more
    than two channels) one mono mixdown. Frames are resampled as they are decoded and written
    into a growing buffer, so memory holds little beyond the result (an hour of stereo is
    2 x 230 MB) however many channels the file has.
    """
    path = Path(path)
    with _open(path) as (container, _fmt):
        stream = container.streams.audio[0]
        channels = stream.channels
        # Keep the source channels (the mixdown is a plain average, done here: swresample's
        # stereo->mono sums at -3 dB each and clips loud calls). Interleaved output: PyAV
        # reads planar frames through AVFrame.data, which holds 8 planes, and segfaults on
        # a frame with 8 or more.
        layout = _layout(channels) if channels <= 2 else stream.layout.name
        resampler = av.AudioResampler(format="flt", layout=layout, rate=SAMPLE_RATE)
        declared = _declared_duration(container, stream)
        expected = min(declared or 60.0, 4 * 3600.0)  # a lying header can't make us allocate
        split = split_channels and channels == 2
        buffer = _Buffer(
            channels if split else 1, int(expected * SAMPLE_RATE) + SAMPLE_RATE, mix=not split
        )
        errors = 0
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    errors += 1  # decoders conceal a damaged packet; count and go on
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        buffer.append(_planar(out.to_ndarray(), channels))
            for out in resampler.resample(None):
                buffer.append(_planar(out.to_ndarray(), channels))
        except av.error.FFmpegError as exc:
            if buffer.size == 0:
                raise _undecodable(exc) from exc
            raise BadInput(
                f"The audio file is truncated or damaged after {buffer.size / SAMPLE_RATE:.1f} s",
                reason="truncated",
            ) from exc
        if buffer.size == 0:
            if errors or declared:
                raise _undecodable(None)
            raise BadInput("The audio file holds no audio", reason="empty")
        _check_length(declared, buffer.size / SAMPLE_RATE)
        return buffer.arrays()


def _planar(interleaved: npt.NDArray[Any], channels: int) -> npt.NDArray[Any]:
    """(1, samples x channels) interleaved -> (channels, samples)."""
    return interleaved.reshape(-1, channels).T


class _Buffer:
    """Per-channel float32 storage that doubles when full (or one mixed-down channel)."""

    def __init__(self, channels: int, capacity: int, *, mix: bool) -> None:
        self.data = np.empty((channels, max(capacity, 1024)), dtype=np.float32)
        self.size = 0
        self.mix = mix

    def append(self, chunk: npt.NDArray[Any]) -> None:
        if self.mix and chunk.shape[0] > 1:
            chunk = chunk.mean(axis=0, keepdims=True, dtype=np.float32)
        n = chunk.shape[1]
        if self.size + n > self.data.shape[1]:
            grown = np.empty(
                (self.data.shape[0], max(2 * self.data.shape[1], self.size + n)), dtype=np.float32
            )
            grown[:, : self.size] = self.data[:, : self.size]
            self.data = grown
        self.data[:, self.size : self.size + n] = chunk
        self.size += n

    def arrays(self) -> list[npt.NDArray[np.float32]]:
        data = self.data[:, : self.size]
        if self.size < 0.9 * self.data.shape[1]:
            data = data.copy()  # don't keep a mostly unused allocation alive
        np.clip(data, -1.0, 1.0, out=data)
        return [data[i] for i in range(data.shape[0])]


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


@contextmanager
def _open(path: Path) -> Iterator[tuple[Any, AudioFormat]]:
    """The opened container and our name for its format, or the error a user should see."""
    size = path.stat().st_size  # a missing file is the caller's bug: FileNotFoundError
    if size == 0:
        raise BadInput("The file is empty", reason="empty")
    with path.open("rb") as f:
        head = f.read(64)
    sniffed = _sniff(head)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        if sniffed is None:
            raise UnsupportedMediaType(
                f"Unsupported media type: not recognised as audio. Upload {ACCEPTED}.",
                detected=None,
            ) from None
        if isinstance(exc, av.error.EOFError) or _structurally_truncated(path, sniffed, size):
            raise BadInput(
                f"The {sniffed.upper()} file is truncated: it ends inside its header or index",
                reason="truncated",
            ) from None
        raise _undecodable(exc) from None
    try:
        fmt = _DEMUXERS.get(container.format.name)
        if fmt is None:
            raise UnsupportedMediaType(
                f"Unsupported media type: {container.format.long_name}. Upload {ACCEPTED}.",
                detected=container.format.name,
            )
        if not container.streams.audio:
            raise UnsupportedMediaType(
                "Unsupported media type: the file holds no audio track",
                detected=container.format.name,
            )
        if any(
            not s.disposition & av.stream.Disposition.attached_pic for s in container.streams.video
        ):
            raise UnsupportedMediaType(
                f"Unsupported media type: video files are not accepted. Upload {ACCEPTED} audio.",
                detected=container.format.name,
            )
        if _structurally_truncated(path, fmt, size):
            raise BadInput(
                f"The {fmt.upper()} file is truncated: it ends before the audio its header "
                "announces",
                reason="truncated",
            )
        yield container, fmt
    finally:
        container.close()


def _check_length(declared: float | None, held: float) -> None:
    """Raise ``truncated`` when the audio ends over max(0.5 s, 2 %) before the announced end."""
    if declared is not None and held > 0 and held < declared - max(0.5, 0.02 * declared):
        raise BadInput(
            f"The audio file is truncated: its header announces {declared:.1f} s "
            f"but it holds {held:.1f} s",
            reason="truncated",
        )


def _check_channels(channels: int, limits: Limits) -> None:
    if channels > limits.max_channels:
        raise BadInput(
            f"The audio has {channels} channels; at most {limits.max_channels} are accepted "
            "(calls are mono or stereo)",
            reason="too_many_channels",
            field="file",
            limit=limits.max_channels,
        )


def _check_seconds(seconds: float, limits: Limits) -> None:
    if seconds > limits.max_seconds:
        raise BadInput(
            f"The audio is {seconds / 3600:.1f} h long; at most "
            f"{limits.max_seconds / 3600:g} h are accepted",
            reason="too_long",
            field="file",
            limit=limits.max_seconds,
        )


def _undecodable(exc: av.error.FFmpegError | None) -> BadInput:
    why = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return BadInput(f"The audio could not be decoded{why}", reason="undecodable")


def _declared_duration(container: Any, stream: Any) -> float | None:
    """Seconds the container says it holds, if it says."""
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return float(container.duration / av.time_base)
    return None


def _sniff(head: bytes) -> AudioFormat | None:
    """The accepted format these leading bytes announce (used when FFmpeg cannot open a file)."""
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _structurally_truncated(path: Path, fmt: AudioFormat, size: int) -> bool:
    """Whether the container's own structure runs past the end of the file."""
    with path.open("rb") as f:
        if fmt == "wav":
            return _wav_truncated(f, size)
        if fmt == "m4a":
            return _mp4_truncated(f, size)
        if fmt == "ogg":
            return _ogg_truncated(f, size)
    return False


def _wav_truncated(f: BinaryIO, size: int) -> bool:
    head = f.read(12)
    if head[:4] != b"RIFF":
        return False  # RF64/BW64 keep real sizes in ds64; FFmpeg's own checks apply
    offset = 12
    while offset + 8 <= size:
        f.seek(offset)
        chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
        if chunk_id == b"data":
            # 0 and 0xFFFFFFFF mark a WAV written while recording (size never filled in)
            if chunk_size in (0, 0xFFFFFFFF):
                return False
            return offset + 8 + int(chunk_size) > size
        offset += 8 + chunk_size + (chunk_size & 1)
    return False


def _mp4_truncated(f: BinaryIO, size: int) -> bool:
    offset = 0
    while offset + 8 <= size:
        f.seek(offset)
        box_size, _box_type = struct.unpack(">I4s", f.read(8))
        if box_size == 1:
            raw = f.read(8)
            if len(raw) < 8:
                return True
            (box_size,) = struct.unpack(">Q", raw)
        elif box_size == 0:
            return False  # the last box runs to the end of the file by definition
        if box_size < 8:
            return False  # not a box structure we understand; leave it to FFmpeg
        if offset + box_size > size:
            return True
        offset += box_size
    return False


def _ogg_truncated(f: BinaryIO, size: int) -> bool:
    """Walk the pages: one running past the end, or a stream never closed with EOS."""
    offset = 0
    open_streams: set[int] = set()
    while offset < size:
        f.seek(offset)
        header = f.read(27)
        if len(header) < 27:
            return True
        if header[:4] != b"OggS":
            return False  # garbage between pages: FFmpeg resyncs; not our call
        header_type = header[5]
        serial = struct.unpack("<I", header[14:18])[0]
        lacing = f.read(header[26])
        if len(lacing) < header[26]:
            return True
        offset += 27 + len(lacing) + sum(lacing)
        if offset > size:
            return True
        if header_type & 0x02:
            open_streams.add(serial)
        if header_type & 0x04:
            open_streams.discard(serial)
    return bool(open_streams)
