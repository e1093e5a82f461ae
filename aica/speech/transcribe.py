"""Speech to text with faster-whisper (CTranslate2): CPU int8 by default, CUDA where asked.

One :class:`Transcriber` per process, built from :class:`~aica.config.Settings`; the Whisper
model behind it is loaded once per process and shared (:func:`load_model`). ``transcribe`` is
blocking CPU work: call it in a thread.

- Mono (or a stereo file whose two channels carry the same signal): one pass, speaker
  ``unknown``, channel 0.
- Stereo: each channel is transcribed on its own, as ``agent`` (the project's
  ``agent_channel``) or ``customer``, and the segments are merged by start time. With language
  auto-detection the language is detected once, on whichever channel Whisper is surer of, and
  forced on both, so the two sides of one call are never transcribed in different languages.
- More than two channels: mixed down (while decoding) and treated as mono.

Segments Whisper invents on silence or hold music are dropped: Silero VAD removes non-speech
before decoding, then a segment goes if its no-speech probability is above 0.6 while its
average log-probability is below -1.0, if its gzip compression ratio is above 2.4 (repetition
loops), or if nothing but non-speech annotations (``[Music]``, ``(upbeat music)``, ``♪``) or
punctuation is left of its text. A segment is split where the speaker paused a second or more
(word timestamps), so turns stay separate and in order once both sides are merged.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from aica.config import Settings
from aica.speech import audio
from aica.speech.features import BlockFeatureExtractor
from aica.speech.whisper_models import (
    ModelUnavailable,
    check_language,
    normalize_language,
    resolve_model,
)
from aica.transcript import Segment, Speaker, Transcript, Word

log = logging.getLogger(__name__)

NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4
_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫♬🎵🎶]")
SPLIT_PAUSE = 1.0
"""A pause (seconds, between word timestamps) at which a Whisper segment is split in two."""
_SAME_SIGNAL = 0.05
"""Channels whose difference is below this fraction of their level carry the same signal."""


_models: dict[tuple[str, str, str, int], Any] = {}
_models_lock = threading.Lock()


def load_model(
    model_path: str,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    cpu_threads: int = 0,
    download_root: Path | None = None,
) -> Any:
    """The process's ``faster_whisper.WhisperModel`` for these options, loaded on first call.

    Thread-safe: concurrent first calls load it once. ``model_path`` is what
    :func:`~aica.speech.whisper_models.resolve_model` returned.
    """
    key = (model_path, device, compute_type, cpu_threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            started = time.perf_counter()
            try:
                model = WhisperModel(
                    model_path,
                    device=device,
                    compute_type=compute_type,
                    cpu_threads=cpu_threads,
                    download_root=str(download_root) if download_root else None,
                )
            except Exception as exc:  # CUDA missing, a bad compute type, no hub access ...
                raise ModelUnavailable(
                    f"Could not load Whisper model {model_path} on device={device} "
                    f"compute_type={compute_type}: {exc}"
                ) from exc
            model.feature_extractor = BlockFeatureExtractor(
                **model.feat_kwargs
            )  # same features, memory flat in the call's length
            log.info(
                "loaded Whisper model %s (%s, %s) in %.1f s",
                model_path,
                device,
                compute_type,
                time.perf_counter() - started,
            )
            _models[key] = model
        return model


class Transcriber:
    """Transcribes recordings with the model ``settings`` name (``AICA_WHISPER_*``)."""

    def __init__(self, settings: Settings) -> None:
        self.model_name = settings.whisper_model
        self.device = settings.whisper_device
        self.compute_type = settings.whisper_compute_type
        self.cpu_threads = settings.whisper_cpu_threads
        self.beam_size = settings.whisper_beam_size
        self.data_dir = settings.data_dir
        self._model_path: str | None = None

    @property
    def model_path(self) -> str:
        """The model's directory (or hub size name); verified or assembled on first access."""
        if self._model_path is None:
            self._model_path = resolve_model(self.model_name, self.data_dir)
        return self._model_path

    def load(self) -> Any:
        """The shared ``WhisperModel`` (call at worker start to pay the load up front)."""
        return load_model(
            self.model_path,
            device=self.device,
            compute_type=self.compute_type,
            cpu_threads=self.cpu_threads,
            download_root=Path(self.data_dir).resolve() / "models" / "hub",
        )

    def check_language(self, language: str | None) -> None:
        """Raise ``BadInput`` if this model cannot transcribe ``language``."""
        check_language(self.model_name, language)

    def transcribe(
        self,
        path: str | os.PathLike[str],
        *,
        language: str | None,
        agent_channel: int = 0,
        on_progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        """Transcribe the recording at ``path`` (see the module doc for mono/stereo).

        ``language`` None or ``"auto"`` detects it; ``on_progress`` gets 0..1, non-decreasing,
        ending with 1.0, called from this thread as segments arrive.
        """
        code = normalize_language(language)
        check_language(self.model_name, code)
        if agent_channel not in (0, 1):
            raise ValueError(f"agent_channel must be 0 or 1, not {agent_channel}")
        file_channels = audio.channel_count(path)
        channels = audio.decode(path, split_channels=True)
        duration = len(channels[0]) / audio.SAMPLE_RATE
        model = self.load()
        tracks: list[tuple[npt.NDArray[np.float32], int, Speaker]]
        if len(channels) == 2 and not _same_signal(channels[0], channels[1]):
            if code is None:
                code = _detect_language(model, channels)
            tracks = [
                (samples, i, "agent" if i == agent_channel else "customer")
                for i, samples in enumerate(channels)
            ]
        else:
            tracks = [(channels[0], 0, "unknown")]
        del channels

        progress = _Progress(on_progress, [len(t[0]) / audio.SAMPLE_RATE for t in tracks])
        segments: list[Segment] = []
        detected = code
        for index, (samples, channel, speaker) in enumerate(tracks):
            pieces, info = model.transcribe(
                samples,
                language=code,
                beam_size=self.beam_size,
                vad_filter=True,
                word_timestamps=True,
                no_speech_threshold=NO_SPEECH_THRESHOLD,
                log_prob_threshold=LOG_PROB_THRESHOLD,
                compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
            )
            for piece in pieces:
                progress.track(index, float(piece.end))
                segments.extend(_keep(piece, channel, speaker))
            detected = detected or info.language
        progress.finish()
        segments.sort(key=lambda s: (s.start, s.channel))
        return Transcript(
            language=detected or "en",
            duration=round(duration, 3),
            channels=file_channels,
            text=" ".join(s.text for s in segments),
            segments=segments,
            model=self.model_name,
        )


def _keep(piece: Any, channel: int, speaker: Speaker) -> list[Segment]:
    """Our segments for faster-whisper's: none for a hallucination (see the module doc), else
    one, or several where the speaker paused for ``SPLIT_PAUSE`` seconds or more.

    VAD glues speech chunks together before decoding, so one Whisper segment can span two
    turns of the same side with the other side talking in between; splitting at the pause
    keeps the merged conversation in order.
    """
    if piece.no_speech_prob > NO_SPEECH_THRESHOLD and piece.avg_logprob < LOG_PROB_THRESHOLD:
        return []
    if piece.compression_ratio > COMPRESSION_RATIO_THRESHOLD:
        return []
    text = piece.text.strip()
    if not _is_speech(text):
        return []
    start, end = round(float(piece.start), 3), round(float(piece.end), 3)
    runs: list[list[tuple[Word, str]]] = [[]]
    for w in piece.words or ():
        if not w.word.strip():
            continue
        word = Word(
            start=round(float(w.start), 3),
            end=round(float(w.end), 3),
            word=w.word.strip(),
            probability=round(float(w.probability), 4),
        )
        if runs[-1] and word.start - runs[-1][-1][0].end >= SPLIT_PAUSE:
            runs.append([])
        runs[-1].append((word, w.word))
    if len(runs) == 1:
        return [Segment(start, end, speaker, channel, text, [w for w, _ in runs[0]])]
    segments = []
    for run in runs:
        run_text = "".join(raw for _, raw in run).strip()
        if _is_speech(run_text):
            words = [w for w, _ in run]
            segments.append(
                Segment(words[0].start, words[-1].end, speaker, channel, run_text, words)
            )
    return segments


def _is_speech(text: str) -> bool:
    """Whether anything but annotations (``[Music]``, ``♪``) and punctuation is left."""
    return any(ch.isalnum() for ch in _ANNOTATION.sub("", text))


def _detect_language(model: Any, channels: Sequence[npt.NDArray[np.float32]]) -> str | None:
    """The language of the channel Whisper is surest about; None when no channel has speech."""
    if not model.model.is_multilingual:
        return "en"
    best: tuple[float, str] | None = None
    for samples in channels:
        try:
            language, probability, _ = model.detect_language(samples, vad_filter=True)
        except ValueError:  # VAD found no speech: nothing to concatenate
            continue
        if best is None or probability > best[0]:
            best = (probability, language)
    return best[1] if best else None


def _same_signal(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> bool:
    """Whether two channels carry one signal (a mono call saved as stereo)."""
    step = 1 << 20
    diff = level = 0.0
    for i in range(0, len(a), step):
        x = a[i : i + step].astype(np.float64)
        y = b[i : i + step].astype(np.float64)
        diff += float(np.square(x - y).sum())
        level += float(max(np.square(x).sum(), np.square(y).sum()))
    return diff <= (_SAME_SIGNAL**2) * level


class _Progress:
    """0..1 over all tracks, weighted by their durations; non-decreasing; ends at 1.0."""

    def __init__(self, callback: Callable[[float], None] | None, durations: list[float]) -> None:
        self.callback = callback
        total = math.fsum(durations) or 1.0
        self.weights = [d / total for d in durations]
        self.offsets = [math.fsum(self.weights[:i]) for i in range(len(durations))]
        self.durations = durations
        self.last = 0.0

    def track(self, index: int, seconds: float) -> None:
        span = self.durations[index] or 1.0
        done = self.offsets[index] + self.weights[index] * min(1.0, max(0.0, seconds / span))
        self._emit(float(min(done, 0.999)))

    def finish(self) -> None:
        self._emit(1.0)

    def _emit(self, value: float) -> None:
        if self.callback is not None and value >= self.last:
            self.last = value
            self.callback(value)
