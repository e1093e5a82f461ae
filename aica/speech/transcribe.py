"""Speech to text with faster-whisper (CTranslate2): CPU int8 by default, CUDA where asked.

One :class:`Transcriber` per process, built from :class:`~aica.config.Settings`; the Whisper
model behind it is loaded once per process and shared (:func:`load_model`). ``transcribe`` is
blocking CPU work: call it in a thread.

- Mono (or a stereo file whose two channels carry the same signal): one pass, speaker
  ``unknown``, channel 0.
- Stereo: each channel is transcribed on its own, as ``agent`` (the project's
  ``agent_channel``) or ``customer``, and the segments are merged by start time. Both channels
  are transcribed in one language, voted over both (:mod:`aica.speech.language`).
- More than two channels: mixed down (while decoding) and treated as mono.

Each track's VAD speech is decoded in batches of 30-second windows (:mod:`aica.speech.batched`,
``AICA_WHISPER_BATCH_SIZE``; fewer CPU seconds, more memory); 0 or 1 selects faster-whisper's
plain decoder, which also takes over a batched window that skipped speech and a call too short
to vote on its language.

Deterministic: decoding is beam search at temperature 0 only. faster-whisper's fallback to
random sampling made the same file come out differently run after run (issue 19), and
seeding CTranslate2 cannot fix that: its generators are per worker thread, seeded once.

No speech is silently lost: Silero VAD finds the speech and Whisper decodes it; a segment goes
only if it is nothing but non-speech annotations (``[Music]``, ``♪``) or punctuation, or if
Whisper calls it silence (no-speech probability above 0.6 with average log-probability below
-1.0). Repeats are collapsed only where they outpace the audio (:mod:`aica.speech.repetition`).
Speech that VAD heard and no segment covers is decoded again with settings that cannot skip
it (language forced, no silence skip, no prompt); what that recovers is flagged
``low_confidence`` on its segments (as is any segment Whisper itself is unsure of), what it
cannot recover is an ``untranscribed_speech`` span, and both are listed in the transcript's
``warnings``. An
English-only model that can make nothing of most of the speech raises
:class:`NotTranscribable` rather than return an empty transcript.

A segment is split where the speaker paused a second or more (word timestamps), so turns stay
separate and in order once both sides are merged.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper.transcribe import restore_speech_timestamps
from faster_whisper.vad import get_speech_timestamps

from aica.config import Settings
from aica.errors import AicaError
from aica.speech import audio, batched, coverage
from aica.speech.features import BlockFeatureExtractor
from aica.speech.language import Detection
from aica.speech.language import detect as detect_language
from aica.speech.repetition import collapse_loops
from aica.speech.whisper_models import (
    BASE,
    ModelUnavailable,
    check_language,
    normalize_language,
    resolve_model,
)
from aica.transcript import Segment, Speaker, Transcript, TranscriptWarning, Word

log = logging.getLogger(__name__)

NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫♬🎵🎶]")
SPLIT_PAUSE = 1.0
"""A pause (seconds, between word timestamps) at which a Whisper segment is split in two."""
REDECODE_PAD = 0.2
"""Seconds of audio added to each side of a passage decoded again."""
SURE_LANGUAGE = 0.5
"""Detection this sure of a language the project does not transcribe is worth a warning."""
MIN_SPEECH_TO_JUDGE = 3.0
UNDERSTOOD_SHARE = 0.5
"""An English-only model that confidently covers less of the speech than this fails it."""
_DECODING: dict[str, Any] = {
    "temperature": 0.0,  # beam search only: no random sampling fallback
    "compression_ratio_threshold": None,  # it only picks among fallbacks; there are none
    "condition_on_previous_text": False,  # a loop would carry on into the next window
    "vad_filter": False,  # done already: the same speech chunks serve coverage and detection
    "word_timestamps": True,
}
"""What every decoding pass shares (see the module doc)."""
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


class NotTranscribable(AicaError):
    """The model can make nothing of most of the speech (an English-only model, another
    language): the record fails with this message instead of completing empty."""

    def __init__(self, message: str, **details: object) -> None:
        details.setdefault("reason", "not_transcribable")
        super().__init__(message, **details)


class Transcriber:
    """Transcribes recordings with the model ``settings`` name (``AICA_WHISPER_*``)."""

    def __init__(self, settings: Settings) -> None:
        self.model_name = settings.whisper_model
        self.device = settings.whisper_device
        self.compute_type = settings.whisper_compute_type
        self.cpu_threads = settings.whisper_cpu_threads
        self.beam_size = settings.whisper_beam_size
        self.batch_size = settings.whisper_batch_size
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
        languages: Sequence[str] = (),
        agent_channel: int = 0,
        on_progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        """Transcribe the recording at ``path`` (see the module doc for mono/stereo).

        ``language`` None or ``"auto"`` detects it, among ``languages`` when any are given;
        ``on_progress`` gets 0..1, non-decreasing, ending with 1.0, called from this thread as
        segments arrive.
        """
        code = normalize_language(language)
        check_language(self.model_name, code)
        allowed = [c for c in map(normalize_language, languages) if c]
        for candidate in allowed:
            check_language(self.model_name, candidate)
        if agent_channel not in (0, 1):
            raise ValueError(f"agent_channel must be 0 or 1, not {agent_channel}")
        file_channels = audio.channel_count(path)
        channels = audio.decode(path, split_channels=True)
        duration = len(channels[0]) / audio.SAMPLE_RATE
        model = self.load()
        tracks: list[_Track]
        if len(channels) == 2 and not _same_signal(channels[0], channels[1]):
            tracks = [
                _Track(samples, i, "agent" if i == agent_channel else "customer")
                for i, samples in enumerate(channels)
            ]
        else:
            tracks = [_Track(channels[0], 0, "unknown")]
        del channels

        warnings: list[TranscriptWarning] = []
        detection = None
        if model.model.is_multilingual:
            detection = detect_language(
                model, [t.speech() for t in tracks], allowed if code is None else ()
            )
            warnings.extend(_language_warnings(detection, code, allowed))
        else:
            code = "en"
        detected = code is None and detection is not None
        if detection is not None and code is None:
            code = detection.language

        progress = _Progress(on_progress, [len(t.samples) / audio.SAMPLE_RATE for t in tracks])
        for index, track in enumerate(tracks):
            found = self._decode_track(model, track, code, partial(progress.track, index))
            code = code or found
            for gap in coverage.uncovered(track.spans(), [(s.start, s.end) for s in track.kept]):
                self._redecode(model, track, gap, code or "en")
            warnings.extend(track.warnings)
        progress.finish()
        if not model.model.is_multilingual:
            _check_english_only(self.model_name, tracks)
        segments = sorted((s for t in tracks for s in t.kept), key=lambda s: (s.start, s.channel))
        warnings.sort(key=lambda w: (w.start, w.channel or 0))
        return Transcript(
            language=code or "en",
            duration=round(duration, 3),
            channels=file_channels,
            text=" ".join(s.text for s in segments),
            segments=segments,
            model=self.model_name,
            language_probability=detection.probability if detection and detected else None,
            warnings=warnings,
        )

    def _decode_track(
        self, model: Any, track: _Track, language: str | None, on_end: Callable[[float], None]
    ) -> str | None:
        """The main pass over the track's VAD speech; returns the language Whisper used.

        Batched when ``AICA_WHISPER_BATCH_SIZE`` > 1 and the language is known; the plain
        decoder detects it itself when the call had too little speech to vote on.
        """
        if not track.chunks:
            return None
        if self.batch_size > 1 and language is not None:
            pieces = batched.decode(
                model,
                track.speech(),
                track.chunks,
                language=language,
                beam_size=self.beam_size,
                batch_size=self.batch_size,
                one_by_one=lambda speech: self._plain(model, speech, language)[0],
            )
        else:
            plain, language = self._plain(model, track.speech(), language)
            pieces = restore_speech_timestamps(plain, track.chunks, audio.SAMPLE_RATE)
        for piece in pieces:
            on_end(float(piece.end))
            if _silent(piece):
                continue  # judged silence; if VAD heard speech here, the gap pass retries it
            track.keep(piece, low_confidence=piece.avg_logprob < LOG_PROB_THRESHOLD)
        return language

    def _plain(
        self, model: Any, speech: npt.NDArray[np.float32], language: str | None
    ) -> tuple[Iterable[Any], str]:
        """The plain decoder's segments of ``speech`` (lazily) and the language it used."""
        pieces, info = model.transcribe(
            speech,
            language=language,
            beam_size=self.beam_size,
            no_speech_threshold=NO_SPEECH_THRESHOLD,
            log_prob_threshold=LOG_PROB_THRESHOLD,
            **_DECODING,
        )
        return pieces, str(info.language)

    def _redecode(self, model: Any, track: _Track, gap: coverage.Span, language: str) -> None:
        """Decode speech the main pass left out, with nothing that lets Whisper skip it."""
        first = max(0, int((gap[0] - REDECODE_PAD) * audio.SAMPLE_RATE))
        last = min(len(track.samples), int((gap[1] + REDECODE_PAD) * audio.SAMPLE_RATE))
        pieces, _ = model.transcribe(
            track.samples[first:last],
            language=language,
            beam_size=max(self.beam_size, 5),
            no_speech_threshold=None,  # nothing may be skipped as silence
            log_prob_threshold=None,
            **_DECODING,
        )
        offset = first / audio.SAMPLE_RATE
        # always unsure: normal decoding passed over this speech, and forced decoding can be
        # confidently wrong (a foreign word read as a loop of one letter)
        recovered = [
            track.keep(piece, offset=offset, low_confidence=True)
            for piece in pieces
            if not _silent(piece)
        ]
        if not any(recovered):
            track.warn(
                "untranscribed_speech",
                "Speech was detected here but could not be transcribed",
                *gap,
            )


@dataclass
class _Track:
    """One channel being transcribed: its audio, VAD speech, and what was kept of it."""

    samples: npt.NDArray[np.float32]
    channel: int
    speaker: Speaker
    kept: list[Segment] = field(default_factory=list)
    warnings: list[TranscriptWarning] = field(default_factory=list)
    chunks: list[dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.chunks = get_speech_timestamps(self.samples, batched.VAD)

    def spans(self) -> list[coverage.Span]:
        rate = audio.SAMPLE_RATE
        return [(c["start"] / rate, c["end"] / rate) for c in self.chunks]

    def speech(self) -> npt.NDArray[np.float32]:
        """The VAD speech, concatenated (what Whisper decodes)."""
        if not self.chunks:
            return np.zeros(0, np.float32)
        return np.concatenate([self.samples[c["start"] : c["end"]] for c in self.chunks])

    def keep(self, piece: Any, *, low_confidence: bool, offset: float = 0.0) -> bool:
        """Add faster-whisper's segment ``piece``; whether anything of it was speech."""
        segments, removed = _segments(piece, self.channel, self.speaker, offset)
        for segment in segments:
            segment.low_confidence = low_confidence or removed > 0
            self.kept.append(segment)
        if segments and removed:
            self.warn(
                "repetition_collapsed",
                f"Whisper repeated words faster than they can be spoken; {removed} repeated "
                "words were removed as a decoding loop",
                segments[0].start,
                segments[-1].end,
            )
        elif segments and low_confidence:
            self.warn(
                "low_confidence",
                "Whisper is unsure of this passage: check it against the audio",
                segments[0].start,
                segments[-1].end,
            )
        return bool(segments)

    def warn(self, code: str, message: str, start: float, end: float) -> None:
        self.warnings.append(
            TranscriptWarning(code, message, round(start, 3), round(end, 3), self.channel)
        )


def _silent(piece: Any) -> bool:
    """Whisper's own verdict that a segment is silence, not speech."""
    return bool(
        piece.no_speech_prob > NO_SPEECH_THRESHOLD and piece.avg_logprob < LOG_PROB_THRESHOLD
    )


def _language_warnings(
    detection: Detection | None, forced: str | None, allowed: Sequence[str]
) -> list[TranscriptWarning]:
    """A call that is clearly in another language than the project transcribes."""
    if detection is None or detection.top_probability < SURE_LANGUAGE:
        return []
    sure = f"{detection.top} (probability {detection.top_probability:.2f})"
    if forced is not None and detection.top != forced:
        return [
            TranscriptWarning(
                "language_mismatch",
                f"The call sounds like {sure}, but the project transcribes {forced}",
                0.0,
                0.0,
            )
        ]
    if forced is None and allowed and detection.top not in allowed:
        return [
            TranscriptWarning(
                "language_not_allowed",
                f"The call sounds like {sure}, which the project does not list "
                f"({', '.join(allowed)}); it was transcribed as {detection.language}",
                0.0,
                0.0,
            )
        ]
    return []


def _check_english_only(model_name: str, tracks: Sequence[_Track]) -> None:
    """Raise :class:`NotTranscribable` when an English-only model understood little of the
    speech: a call in another language would otherwise complete with an empty transcript."""
    speech = sum(coverage.seconds(t.spans()) for t in tracks)
    understood = sum(
        coverage.seconds((s.start, s.end) for s in t.kept if not s.low_confidence) for t in tracks
    )
    if speech >= MIN_SPEECH_TO_JUDGE and understood < UNDERSTOOD_SHARE * speech:
        raise NotTranscribable(
            f"The English-only model {model_name} could transcribe only {understood:.0f} s of "
            f"the {speech:.0f} s of speech in this call; it is probably not in English. Set "
            f"AICA_WHISPER_MODEL=base ({BASE.install}) to transcribe other languages",
            model=model_name,
        )


def _segments(
    piece: Any, channel: int, speaker: Speaker, offset: float
) -> tuple[list[Segment], int]:
    """Our segments for faster-whisper's ``piece`` (none if it holds no speech), split where
    the speaker paused for ``SPLIT_PAUSE`` seconds or more, and how many words of a decoding
    loop were removed from it.

    VAD glues speech chunks together before decoding, so one Whisper segment can span two
    turns of the same side with the other side talking in between; splitting at the pause
    keeps the merged conversation in order.
    """
    pairs: list[tuple[Word, str]] = []
    for w in piece.words or ():
        if w.word.strip():
            word = Word(
                start=round(float(w.start) + offset, 3),
                end=round(float(w.end) + offset, 3),
                word=w.word.strip(),
                probability=round(float(w.probability), 4),
            )
            pairs.append((word, w.word))
    collapsed = collapse_loops([w for w, _ in pairs])
    pairs = [pairs[i] for i in collapsed.kept]
    runs: list[list[tuple[Word, str]]] = [[]]
    for word, spelled in pairs:
        if runs[-1] and word.start - runs[-1][-1][0].end >= SPLIT_PAUSE:
            runs.append([])
        runs[-1].append((word, spelled))
    if len(runs) == 1 and not collapsed.removed:
        text = piece.text.strip()
        if not _is_speech(text):
            return [], 0
        start, end = round(float(piece.start) + offset, 3), round(float(piece.end) + offset, 3)
        return [Segment(start, end, speaker, channel, text, [w for w, _ in pairs])], 0
    segments = []
    for run in runs:
        text = "".join(spelled for _, spelled in run).strip()
        if _is_speech(text):
            words = [w for w, _ in run]
            segments.append(Segment(words[0].start, words[-1].end, speaker, channel, text, words))
    return segments, collapsed.removed


def _is_speech(text: str) -> bool:
    """Whether anything but annotations (``[Music]``, ``♪``) and punctuation is left."""
    return any(ch.isalnum() for ch in _ANNOTATION.sub("", text))


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
