"""Tell a Whisper decoding loop from speech that really repeats itself.

A decoder stuck in a loop emits the same few words over and over, far faster than anyone can
say them: Whisper's word alignment has to cram the extra copies into the audio it has. A
caller repeating an order number, an IVR prompt playing again or a read-back take the time
they take. So a run of repeats is judged by its pace: copies that fit the time their words
span are speech and are kept whole; a run spoken faster than ``MAX_WORDS_PER_SECOND`` keeps
only as many copies as fit, and is reported as collapsed. Nothing is dropped by compression
ratio alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aica.transcript import Word

MAX_WORDS_PER_SECOND = 5.0
"""Faster than fast conversational speech (about 3-4 words a second)."""
MIN_REPEATS = 3
"""Fewer consecutive copies than this are never treated as a loop."""
MAX_NGRAM = 10


@dataclass(frozen=True)
class Collapsed:
    kept: list[int]
    """Indices of the words kept, in order."""
    removed: int
    """How many words of implausible repeats were removed (0: the words are all speech)."""


def collapse_loops(words: Sequence[Word]) -> Collapsed:
    """``words`` with every run of repeats spoken faster than humanly possible cut to fit."""
    keys = [_key(w.word) for w in words]
    kept: list[int] = []
    removed = 0
    i = 0
    while i < len(words):
        size, copies = _longest_run(keys, i)
        if copies < MIN_REPEATS:
            kept.append(i)
            i += 1
            continue
        run = words[i : i + size * copies]
        fit = max(1, min(copies, int(_span(run) * MAX_WORDS_PER_SECOND / size)))
        kept.extend(range(i, i + size * fit))
        removed += size * (copies - fit)
        i += size * copies
    return Collapsed(kept, removed)


def _longest_run(keys: Sequence[str], start: int) -> tuple[int, int]:
    """(n-gram size, consecutive copies) of the repeat run starting at ``start`` covering the
    most words; (1, 1) when nothing repeats there."""
    best = (1, 1)
    for size in range(1, MAX_NGRAM + 1):
        gram = keys[start : start + size]
        if len(gram) < size or not all(gram):
            break
        copies = 1
        while keys[start + copies * size : start + (copies + 1) * size] == gram:
            copies += 1
        if copies >= MIN_REPEATS and size * copies > best[0] * best[1]:
            best = (size, copies)
    return best


def _span(words: Sequence[Word]) -> float:
    return max(0.0, words[-1].end - words[0].start)


def _key(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())
