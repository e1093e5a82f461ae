"""Apply what ``detect`` found: placeholders in the words and segments, silence in the audio."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aica.redaction.detect import find
from aica.transcript import Segment, Transcript, Word

PADDING_SECONDS = 0.25
"""Silence added around each span: word timings are approximate to about a tenth of a second."""
TONE_HZ = 1000.0
TONE_LEVEL = 0.1
"""Amplitude of the tone (-20 dBFS): heard, not startling."""
_TRAILING = re.compile(r"[.,!?;:…]+$")


@dataclass(frozen=True, slots=True)
class Span:
    kind: str
    """``CARD``, ``PHONE``, ``EMAIL``, ``IBAN``, ``ACCOUNT``, ``DOB`` or ``ID``."""
    start: float
    end: float
    channel: int

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Redacted:
    transcript: Transcript
    spans: list[Span]


def redact(transcript: Transcript) -> Redacted:
    """The transcript with every word of personal data replaced by ``[KIND]``.

    Each channel's words are searched as one stream, so a number read across two segments is
    found whole. Segments that changed get their text rebuilt from their words.
    """
    segments = [_with_words(s) for s in transcript.segments]
    streams: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s, segment in enumerate(segments):
        streams[segment.channel].extend((s, w) for w in range(len(segment.words)))
    spans: list[Span] = []
    touched: set[int] = set()
    for channel, positions in streams.items():
        words = [segments[s].words[w] for s, w in positions]
        for found in find([w.word for w in words], transcript.language):
            for s, w in positions[found.first : found.last + 1]:
                word = segments[s].words[w]
                segments[s].words[w] = dataclasses.replace(word, word=f"[{found.kind}]")
                touched.add(s)
            first, last = words[found.first], words[found.last]
            spans.append(Span(found.kind, first.start, last.end, channel))
    if not spans:
        return Redacted(transcript, [])
    for s in touched:
        segments[s].text = _text(transcript.segments[s].words or [], segments[s].words)
    text = " ".join(s.text.strip() for s in segments)
    spans.sort(key=lambda span: (span.start, span.channel))
    return Redacted(dataclasses.replace(transcript, segments=segments, text=text), spans)


def _with_words(segment: Segment) -> Segment:
    """A copy to edit; a segment without word timings gets its text's words over its time."""
    words = list(segment.words) or [
        Word(segment.start, segment.end, word, 1.0) for word in segment.text.split()
    ]
    return dataclasses.replace(segment, words=words)


def _text(original: list[Word], words: list[Word]) -> str:
    """The words joined, a run of one placeholder written once with the run's last
    punctuation ("[CARD]." for the sixteen words of a card ending a sentence)."""
    out: list[str] = []
    for i, word in enumerate(words):
        placeholder = word.word.startswith("[") and word.word.endswith("]")
        if placeholder and i + 1 < len(words) and words[i + 1].word == word.word:
            continue
        said = original[i].word if i < len(original) else ""
        trailing = _TRAILING.search(said) if placeholder else None
        out.append(word.word + (trailing.group(0) if trailing else ""))
    return " ".join(out)


def silence(
    channels: list[npt.NDArray[np.float32]],
    rate: int,
    spans: list[Span],
    *,
    tone: bool = False,
    padding: float = PADDING_SECONDS,
) -> list[npt.NDArray[np.float32]]:
    """Copies of ``channels`` with every span silenced on all of them (a voice leaks into the
    other side's microphone), or covered by a soft 1 kHz ``tone``."""
    out = [c.copy() for c in channels]
    for span in spans:
        start = max(0, int((span.start - padding) * rate))
        end = int((span.end + padding) * rate)
        for samples in out:
            length = len(samples[start:end])
            cover = (
                TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * np.arange(length) / rate) if tone else 0
            )
            samples[start:end] = cover
    return out
