"""Where the voice-activity detector heard speech that no transcript segment covers.

Whisper can pass over speech without a trace: a 30-second window judged silent, a loop that
ran to the window's end, a segment dropped as a hallucination. Comparing its segments with
Silero VAD's speech spans finds those holes, so they can be decoded again or reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Span = tuple[float, float]
"""(start, end) in seconds."""

SLACK = 0.5
"""Seconds a segment is taken to cover beyond its timestamps (VAD pads speech by 0.4 s)."""
MIN_GAP = 1.0
"""Uncovered speech shorter than this is a word at a segment's edge, not a lost passage."""
JOIN = 0.5
"""Gaps closer than this are one passage."""


def uncovered(speech: Sequence[Span], covered: Iterable[Span]) -> list[Span]:
    """The parts of ``speech`` at least ``MIN_GAP`` long that no ``covered`` span reaches."""
    cover = _union((max(0.0, s - SLACK), e + SLACK) for s, e in covered)
    gaps: list[Span] = []
    for start, end in speech:
        cursor = start
        for c_start, c_end in cover:
            if c_end <= cursor or c_start >= end:
                continue
            if c_start > cursor:
                gaps.append((cursor, c_start))
            cursor = max(cursor, c_end)
        if cursor < end:
            gaps.append((cursor, end))
    joined = _union(gaps, join=JOIN)
    return [(s, e) for s, e in joined if e - s >= MIN_GAP]


def seconds(spans: Iterable[Span]) -> float:
    return sum(e - s for s, e in _union(spans))


def _union(spans: Iterable[Span], *, join: float = 0.0) -> list[Span]:
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + join:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]
