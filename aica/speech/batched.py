"""Whisper over a track's speech in batches of 30-second windows (faster-whisper's
``BatchedInferencePipeline``): fewer CPU seconds and fewer wrong words than the plain,
one-window-at-a-time decoder, for 50-80 MiB more memory per extra window (README, Benchmarks).

The plain decoder slides over the speech one window at a time, each window starting where the
last segment ended. Here the windows are fixed up front: consecutive VAD chunks (each at most
30 s, see :data:`VAD`) packed in order into windows of at most 30 s, so a window never cuts a
word, and ``batch_size`` windows are encoded and beam-searched together. The pipeline's
default of no timestamp tokens is kept: with them it drops a window's unfinished last segment
(it cannot seek back as the plain decoder does), which lost speech and set off the gap
re-decoding; without them a window is one segment, split at pauses by its word timestamps
like any other. What the plain path promises carries over as follows:

- Beam search at temperature 0, nothing conditioned on the previous window: the pipeline never
  samples or conditions, whatever it is asked.
- Silence and low-confidence verdicts: every segment carries its window's ``no_speech_prob``
  and ``avg_logprob``, which the caller judges exactly as the plain decoder's (the pipeline
  itself skips nothing).
- No speech skipped: with no timestamps to keep it in place, Whisper can leave out part of a
  window (a sentence said again and again, most often) and the word alignment then stretches
  a word over it, hiding the hole from the caller's coverage check. Such a window
  (:func:`skipped`) is decoded again by the plain decoder.
- Language: always given (voted over the call beforehand); the pipeline's own per-window
  detection is not used.
- Memory: features are computed for one batch of windows at a time. The pipeline's own
  ``transcribe`` over a whole call would compute and stack every window's features first,
  which grows with the call's length. Each extra window in a batch costs decoder memory
  (50-80 MiB for tiny.en with beam 5), whatever the call's length.
- Timestamps: each window's are on the concatenated speech, mapped back to the recording
  with the VAD chunks, as for the plain decoder.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper.transcribe import BatchedInferencePipeline, restore_speech_timestamps
from faster_whisper.vad import VadOptions

from aica.speech.audio import SAMPLE_RATE

log = logging.getLogger(__name__)

WINDOW = 30 * SAMPLE_RATE
"""Whisper's window, in samples: one window's speech must fit it."""
VAD = VadOptions(max_speech_duration_s=WINDOW // SAMPLE_RATE)
"""Silero VAD as faster-whisper defaults it, but no chunk longer than a window (a longer one
is cut at its last pause before 30 s)."""
MAX_WORD_SECONDS = 2.0
"""Longer than any word is said; VAD has cut the longer pauses out of the speech."""


def windows(chunks: Sequence[dict[str, int]]) -> list[tuple[int, int]]:
    """(start, end) sample offsets on the concatenated speech of windows packing consecutive
    VAD ``chunks`` up to :data:`WINDOW`."""
    spans: list[tuple[int, int]] = []
    start = end = 0
    for chunk in chunks:
        size = chunk["end"] - chunk["start"]
        if end > start and end - start + size > WINDOW:
            spans.append((start, end))
            start = end
        end += size
    if end > start:
        spans.append((start, end))
    return spans


def decode(
    model: Any,
    speech: npt.NDArray[np.float32],
    chunks: Sequence[dict[str, int]],
    *,
    language: str,
    beam_size: int,
    batch_size: int,
    one_by_one: Callable[[npt.NDArray[np.float32]], Iterable[Any]],
) -> Iterator[Any]:
    """faster-whisper segments (with words) of ``speech``, the concatenation of ``chunks`` of a
    recording, in order, timed on the recording; one batch is decoded per step.

    A window whose words are stretched over speech they cannot fill is decoded again by
    ``one_by_one`` (the plain decoder, times from the window's start), see :func:`skipped`.
    """
    pipeline = BatchedInferencePipeline(model)  # it keeps per-call state: one per track
    spans = windows(chunks)
    log.debug("%d windows of speech, decoded %d at a time", len(spans), batch_size)

    def pieces() -> Iterator[Any]:
        for first in range(0, len(spans), batch_size):
            group = spans[first : first + batch_size]
            batch, _ = pipeline.transcribe(
                speech,
                language=language,
                beam_size=beam_size,
                batch_size=batch_size,
                clip_timestamps=[
                    {"start": start / SAMPLE_RATE, "end": end / SAMPLE_RATE} for start, end in group
                ],
                word_timestamps=True,
                temperature=0.0,
            )
            starts = [start / SAMPLE_RATE for start, _ in group]
            for piece in batch:
                if not skipped(piece):
                    yield piece
                    continue
                start, end = group[max(0, bisect_right(starts, piece.start + 0.01) - 1)]
                log.debug("window at %.1f s skipped speech; decoding it again", start / SAMPLE_RATE)
                for again in one_by_one(speech[start:end]):
                    yield _shifted(again, start / SAMPLE_RATE)

    restored: Iterator[Any] = restore_speech_timestamps(pieces(), list(chunks), SAMPLE_RATE)
    return restored


def skipped(piece: Any) -> bool:
    """Whether a window's text leaves out speech: its words are aligned to the whole window, so
    a passage Whisper left out (a repeat, most often) stretches a word over it."""
    return any(w.end - w.start > MAX_WORD_SECONDS for w in piece.words or ())


def _shifted(piece: Any, seconds: float) -> Any:
    piece.start += seconds
    piece.end += seconds
    for word in piece.words or ():
        word.start += seconds
        word.end += seconds
    return piece
