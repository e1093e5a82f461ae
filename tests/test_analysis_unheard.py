"""A criterion whose window holds speech the transcriber could not hear is not checked."""

from __future__ import annotations

from dataclasses import replace

from aica.analysis import analyze
from aica.transcript import TranscriptWarning
from tests.test_analysis_engine import call, phrase, profile, seg

GREETING = profile(
    phrase(
        "greeting",
        "thank you for calling",
        speaker="agent",
        window={"position": "first", "seconds": 10},
    ),
    phrase("closing", "have a nice day", speaker="agent"),
)


def lost_greeting(channel: int) -> TranscriptWarning:
    return TranscriptWarning("untranscribed_speech", "could not be transcribed", 0.4, 3.0, channel)


def test_a_greeting_lost_in_untranscribed_speech_is_not_checked_rather_than_missed() -> None:
    transcript = call(
        seg("customer", 4.0, 6.0, "hi I have a question about my bill"),
        seg("agent", 7.0, 9.0, "sure, have a nice day"),
    )
    missed = analyze(transcript, GREETING)
    assert missed.criteria[0].passed is False

    unheard = analyze(replace(transcript, warnings=[lost_greeting(0)]), GREETING)
    greeting, closing = unheard.criteria
    assert greeting.passed is None
    assert greeting.detail.startswith("not checked") and "0:00-0:03" in greeting.detail
    assert closing.passed is True
    assert unheard.quality_score == 100.0


def test_speech_lost_on_the_other_side_does_not_excuse_a_missing_line() -> None:
    transcript = call(
        seg("customer", 4.0, 6.0, "hi I have a question about my bill"),
        seg("agent", 7.0, 9.0, "sure, have a nice day"),
        duration=12.0,
    )
    result = analyze(replace(transcript, warnings=[lost_greeting(1)]), GREETING)
    assert result.criteria[0].passed is False


def test_a_low_confidence_segment_in_the_window_leaves_the_criterion_not_checked() -> None:
    unsure = replace(seg("agent", 0.5, 3.0, "think you four colon"), low_confidence=True)
    transcript = call(unsure, seg("agent", 7.0, 9.0, "have a nice day"))
    assert analyze(transcript, GREETING).criteria[0].passed is None
    sure = call(seg("agent", 0.5, 3.0, "think you four colon"), seg("agent", 7.0, 9.0, "bye"))
    assert analyze(sure, GREETING).criteria[0].passed is False


def test_one_unsure_word_at_the_end_of_a_call_excuses_no_missing_line() -> None:
    """A re-decoded guess ("You") after the last line must not turn a rude call's missed
    lines into "not checked" (it once lifted such a call from 12.5 to 50)."""
    transcript = call(
        seg("agent", 0.1, 2.0, "yeah what do you want"),
        seg("customer", 3.0, 5.2, "I was charged twice for my order"),
        seg("agent", 5.8, 8.7, "that is not my problem call the bank"),
        seg("agent", 12.2, 13.6, "no whatever"),
        replace(seg("agent", 13.9, 15.3, "you"), low_confidence=True),
        duration=16.0,
    )
    greeting, closing = analyze(transcript, GREETING).criteria
    assert (greeting.passed, closing.passed) == (False, False)
