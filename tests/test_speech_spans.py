"""Loop collapsing and speech coverage, the pure parts of keeping every spoken word."""

from __future__ import annotations

from aica.speech.coverage import uncovered
from aica.speech.repetition import collapse_loops
from aica.transcript import Word


def timed(text: str, start: float, seconds_per_word: float) -> list[Word]:
    return [
        Word(start + i * seconds_per_word, start + (i + 1) * seconds_per_word, w, 0.9)
        for i, w in enumerate(text.split())
    ]


def test_repeats_that_fit_their_time_are_all_kept() -> None:
    words = timed(" ".join(["order four five seven."] * 12), 0.0, 0.4)
    assert collapse_loops(words).kept == list(range(len(words)))
    assert collapse_loops(words).removed == 0


def test_a_loop_faster_than_speech_keeps_only_what_fits() -> None:
    said = timed("thank you for calling", 0.0, 0.4)
    loop = timed(" ".join(["the"] * 40), 1.6, 0.01)  # 40 words crammed into 0.4 s
    collapsed = collapse_loops(said + loop)
    kept = [(said + loop)[i].word for i in collapsed.kept]
    assert kept[:4] == ["thank", "you", "for", "calling"]
    assert 1 <= kept.count("the") <= 2
    assert collapsed.removed == 40 - kept.count("the")


def test_speech_no_segment_covers_is_found() -> None:
    speech = [(0.0, 10.0), (20.0, 24.0)]
    segments = [(0.4, 3.0), (7.5, 9.6)]
    assert uncovered(speech, segments) == [(3.5, 7.0), (20.0, 24.0)]
    assert uncovered(speech, [*segments, (3.1, 7.4), (20.3, 23.7)]) == []
