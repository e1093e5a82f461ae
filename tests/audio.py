"""Real test audio: speech from espeak-ng, containers encoded with PyAV, calls built with numpy.

Files are made once per test session into a cache directory (``AudioFactory(root)``, with
``root`` under pytest's session base temp) and reused across test modules.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

ESPEAK = shutil.which("espeak-ng")
SPEECH_RATE = 22_050
"""espeak-ng's output rate; every builder here writes at this rate."""

# (muxer, encoder, sample rate or None to keep the source's)
ENCODINGS: dict[str, tuple[str, str, int | None]] = {
    "wav": ("wav", "pcm_s16le", None),
    "mp3": ("mp3", "libmp3lame", None),
    "ogg": ("ogg", "libopus", 48_000),  # FFmpeg's native Vorbis encoder is stereo-only
    "flac": ("flac", "flac", None),
    "m4a": ("ipod", "aac", None),
}


@dataclass(frozen=True)
class Turn:
    """One line of a call: who says it (channel), when it starts (seconds), what is said."""

    channel: int
    start: float
    text: str


def read_wav(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """(samples as float32 of shape (frames, channels), rate) of a 16-bit PCM WAV."""
    with wave.open(str(path), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (raw.reshape(-1, channels).astype(np.float32) / 32768.0), rate


def write_wav(path: Path, samples: npt.NDArray[np.float32], rate: int = SPEECH_RATE) -> Path:
    """Write float samples, shape (frames,) or (frames, channels), as 16-bit PCM."""
    data = samples.reshape(len(samples), -1)
    pcm = (np.clip(data, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def transcode(src: Path, dst: Path, fmt: str) -> Path:
    """Re-encode ``src`` into ``fmt`` (a key of ENCODINGS) with PyAV."""
    muxer, codec, rate = ENCODINGS[fmt]
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=muxer) as out:
        source = inp.streams.audio[0]
        stream = out.add_stream(codec, rate=rate or source.rate)
        assert isinstance(stream, av.AudioStream)
        ctx = stream.codec_context
        layout = {1: "mono", 2: "stereo"}[source.channels]
        sample_format = (ctx.codec.audio_formats or [])[0].name
        ctx.layout = layout
        ctx.format = sample_format
        resampler = av.AudioResampler(
            format=sample_format,
            layout=layout,
            rate=ctx.sample_rate,
            frame_size=ctx.frame_size or None,
        )

        def write(frames: list[av.AudioFrame]) -> None:
            for frame in frames:
                for packet in stream.encode(frame):
                    out.mux(packet)

        for frame in inp.decode(source):
            write(resampler.resample(frame))
        write(resampler.resample(None))
        for packet in stream.encode(None):
            out.mux(packet)
    return dst


class AudioFactory:
    """Builds test recordings into ``root``, each once (keyed by what it is made from)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, kind: str, suffix: str, *key: object) -> Path:
        digest = hashlib.sha256(json.dumps([kind, *key], default=str).encode()).hexdigest()
        return self.root / f"{kind}-{digest[:16]}.{suffix}"

    def speech(self, text: str, *, voice: str = "en-us", wpm: int = 150) -> Path:
        """espeak-ng speaking ``text``, mono 22.05 kHz WAV."""
        path = self._path("speech", "wav", text, voice, wpm)
        if not path.exists():
            assert ESPEAK, "espeak-ng is not installed (apt-get install espeak-ng)"
            tmp = path.with_suffix(".tmp.wav")
            subprocess.run(
                [ESPEAK, "-v", voice, "-s", str(wpm), "-w", str(tmp), text],
                check=True,
                capture_output=True,
            )
            tmp.replace(path)
        return path

    def encoded(self, text: str, fmt: str, *, voice: str = "en-us") -> Path:
        """``speech`` in container ``fmt``, with a misleading-free ``.fmt`` name."""
        return self.convert(self.speech(text, voice=voice), fmt)

    def convert(self, wav: Path, fmt: str) -> Path:
        if fmt == "wav":
            return wav
        path = self._path("enc", fmt, wav.name, fmt)
        if not path.exists():
            tmp = path.with_name(f"tmp-{path.name}")
            transcode(wav, tmp, fmt)
            tmp.replace(path)
        return path

    def silence(self, seconds: float, *, channels: int = 1) -> Path:
        path = self._path("silence", "wav", seconds, channels)
        if not path.exists():
            write_wav(path, np.zeros((int(seconds * SPEECH_RATE), channels), np.float32))
        return path

    def tones(self, seconds: float) -> Path:
        """Hold-music stand-in: a looping melody of soft sine chords with a little noise."""
        path = self._path("tones", "wav", seconds)
        if not path.exists():
            rng = np.random.default_rng(7)
            t = np.arange(int(seconds * SPEECH_RATE)) / SPEECH_RATE
            notes = [261.6, 329.6, 392.0, 523.3, 392.0, 329.6]
            step = (t // 0.5).astype(int) % len(notes)
            freq = np.array(notes)[step]
            signal = 0.2 * np.sin(2 * np.pi * freq * t) + 0.1 * np.sin(2 * np.pi * 1.5 * freq * t)
            signal += 0.005 * rng.standard_normal(len(t))
            write_wav(path, signal.astype(np.float32))
        return path

    def call(self, turns: Sequence[Turn], *, seconds: float | None = None) -> Path:
        """A stereo call: each turn spoken on its channel from its start time, silence elsewhere."""
        path = self._path("call", "wav", [(t.channel, t.start, t.text) for t in turns], seconds)
        if not path.exists():
            clips = [(turn, read_wav(self.speech(turn.text))[0][:, 0]) for turn in turns]
            end = max(int(turn.start * SPEECH_RATE) + len(clip) for turn, clip in clips)
            frames = max(end, int((seconds or 0) * SPEECH_RATE)) + SPEECH_RATE // 2
            stereo = np.zeros((frames, 2), np.float32)
            for turn, clip in clips:
                at = int(turn.start * SPEECH_RATE)
                stereo[at : at + len(clip), turn.channel] += clip
            write_wav(path, stereo)
        return path

    def conversation(
        self, lines: Sequence[tuple[str, str]], *, phone: bool = False, gap: float = 0.4
    ) -> tuple[Path, list[tuple[float, float, str]]]:
        """A mono call of ``(voice, text)`` lines one after another, ``gap`` s apart, and
        each line's (start, end, voice); ``phone`` puts it through a telephone band (8 kHz,
        300-3400 Hz, with sox) as most telephony exports are."""
        path = self._path("conversation", "wav", list(lines), phone, gap)
        clips = [
            (voice, read_wav(self.speech(text, voice=voice))[0][:, 0]) for voice, text in lines
        ]
        truth, at, parts = [], 0.0, []
        for voice, clip in clips:
            seconds = len(clip) / SPEECH_RATE
            truth.append((round(at, 3), round(at + seconds, 3), voice))
            parts += [clip, np.zeros(int(gap * SPEECH_RATE), np.float32)]
            at += seconds + int(gap * SPEECH_RATE) / SPEECH_RATE
        if not path.exists():
            wide = write_wav(path.with_name(f"tmp-{path.name}"), np.concatenate(parts))
            if phone:
                band = ["sox", str(wide), "-r", "8000", str(path), "sinc", "300-3400"]
                subprocess.run(band, check=True, capture_output=True)
                wide.unlink()
            else:
                wide.replace(path)
        return path, truth

    def duplicated_stereo(self, text: str) -> Path:
        """A mono recording saved as stereo: both channels carry the same speech."""
        path = self._path("dup", "wav", text)
        if not path.exists():
            mono = read_wav(self.speech(text))[0][:, 0]
            write_wav(path, np.stack([mono, mono], axis=1))
        return path


def labelled_right(
    turns: Sequence[tuple[float, float, int]], truth: Sequence[tuple[float, float, str]]
) -> float:
    """Share of the lines' time (10 ms steps) whose turn ``(start, end, cluster)`` is the
    line's voice, under the better of the two ways to match clusters to voices (naming them
    is another step); time no turn covers (what VAD calls silence) is left out."""
    first = truth[0][2]
    right = total = 0
    for start, end, voice in truth:
        for moment in np.arange(start, end, 0.01):
            cluster = next((c for a, b, c in turns if a <= moment < b), None)
            if cluster is not None:
                total += 1
                right += cluster == (0 if voice == first else 1)
    return max(right, total - right) / total if total else 0.0


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()
