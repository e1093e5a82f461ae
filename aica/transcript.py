"""What a call said, as both engines see it: speech writes it, analysis reads it.

Plain data with no dependencies, so the speech engine, the analysis engine and the services
that store transcripts share one definition without importing each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

Speaker = Literal["agent", "customer", "unknown"]


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class Segment:
    start: float
    end: float
    speaker: Speaker
    channel: int
    text: str
    words: list[Word] = field(default_factory=list)
    low_confidence: bool = False
    """Whisper was unsure of these words (a re-decoded passage, a collapsed loop): check them
    against the audio before relying on them."""


@dataclass
class TranscriptWarning:
    """Something the listener should know about a span of the call (``start``..``end`` s)."""

    code: str
    """``untranscribed_speech``, ``low_confidence``, ``repetition_collapsed``,
    ``language_not_allowed`` or ``language_mismatch``."""
    message: str
    start: float
    end: float
    channel: int | None = None
    """The channel it concerns; None for the whole call."""


@dataclass
class Transcript:
    language: str
    """Forced by the project, or detected (``en`` for an English-only model)."""
    duration: float
    """Seconds of audio decoded."""
    channels: int
    """Channels in the file (2 for a stereo call even when both carry the same signal)."""
    text: str
    segments: list[Segment]
    model: str = ""
    """The ``AICA_WHISPER_MODEL`` that produced it."""
    language_probability: float | None = None
    """How sure detection was of ``language`` (0..1); None when nothing was detected."""
    warnings: list[TranscriptWarning] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what a JSON column stores); ``from_json`` reads it back."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> Transcript:
        raw: Mapping[str, Any] = json.loads(data) if isinstance(data, str | bytes) else data
        return cls(
            language=str(raw["language"]),
            duration=float(raw["duration"]),
            channels=int(raw["channels"]),
            text=str(raw["text"]),
            segments=[segment_from_json(s) for s in raw.get("segments") or []],
            model=str(raw.get("model", "")),
            language_probability=raw.get("language_probability"),
            warnings=[TranscriptWarning(**w) for w in raw.get("warnings") or []],
        )


def segment_from_json(raw: Mapping[str, Any]) -> Segment:
    return Segment(
        start=float(raw["start"]),
        end=float(raw["end"]),
        speaker=cast(Speaker, raw["speaker"]),
        channel=int(raw["channel"]),
        text=str(raw["text"]),
        words=[Word(**w) for w in raw.get("words") or []],
        low_confidence=bool(raw.get("low_confidence", False)),
    )
