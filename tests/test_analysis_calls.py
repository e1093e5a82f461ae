"""aica.analysis on real speech: scripted stereo calls (espeak-ng), transcribed with tiny.en.

Agent on channel 0, customer on channel 1. Every line is distinct (Whisper's repetition filter
drops verbatim repeats). Each call is transcribed once per module.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from aica.analysis import BUILTIN, AnalysisResult, CriterionResult, analyze
from aica.config import Settings
from aica.speech.transcribe import Transcriber
from aica.transcript import Transcript
from tests.audio import AudioFactory, Turn, read_wav

GOOD = [
    Turn(0, 0.5, "Good morning, thank you for calling Acme support. My name is Sarah. "
                 "How can I help you today?"),
    Turn(1, 8.0, "Hi Sarah, I was charged twice for my order last week."),
    Turn(0, 12.5, "I am sorry about that. Let me check your account."),
    Turn(0, 16.5, "I have processed your refund for the second payment. "
                  "Does that answer your question?"),
    Turn(1, 23.0, "Yes, that is great, thank you so much."),
    Turn(0, 26.5, "Is there anything else I can help you with? Have a great day!"),
]  # fmt: skip
ABRUPT = [
    Turn(0, 0.5, "Account number."),
    Turn(1, 2.5, "It is four five six seven. My internet has been down since yesterday."),
    Turn(0, 8.0, "Let me check. I have reset your modem and the issue is fixed now. "
                 "Does that solve the problem?"),
    Turn(1, 14.5, "Yes, it works again."),
    Turn(0, 17.0, "Right. Please restart the router if it happens again."),
]  # fmt: skip
RUDE = [
    Turn(0, 0.5, "Thank you for calling Acme support, my name is Tom. How can I help?"),
    Turn(1, 6.0, "My package is three weeks late and nobody answers my emails."),
    Turn(0, 11.0, "That is not my problem, talk to the courier."),
    Turn(1, 15.0, "This is unacceptable."),
    Turn(0, 17.5, "Is there anything else? Have a nice day."),
]
UNDISCLOSED = [
    Turn(0, 0.5, "Hello, this is Mark calling from Delta Recovery. Am I speaking with John Smith?"),
    Turn(1, 6.5, "Yes, speaking."),
    Turn(0, 8.5, "You have an overdue balance of four hundred dollars. "
                 "Can you make a payment today?"),
    Turn(1, 14.5, "I can pay one hundred dollars on Friday."),
    Turn(0, 18.0, "Thank you. Just to confirm, you agreed to pay one hundred dollars on Friday. "
                  "Goodbye."),
]  # fmt: skip
DISCLOSED = [
    Turn(0, 0.5, "Hello, this is Mark from Delta Recovery. Am I speaking with John Smith?"),
    Turn(1, 5.5, "Yes, that is me."),
    Turn(0, 7.5, "This is an attempt to collect a debt, and any information obtained will be "
                 "used for that purpose."),
    Turn(1, 14.0, "I understand."),
]  # fmt: skip


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture(scope="module")
def transcribe(
    audio: AudioFactory, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[list[Turn]], Transcript]:
    transcriber = Transcriber(
        Settings(data_dir=tmp_path_factory.mktemp("data"), whisper_model="tiny.en")
    )
    cache: dict[tuple[Turn, ...], Transcript] = {}

    def run(turns: list[Turn]) -> Transcript:
        key = tuple(turns)
        if key not in cache:
            cache[key] = transcriber.transcribe(audio.call(turns), language="en", agent_channel=0)
        return cache[key]

    return run


def criterion(result: AnalysisResult, key: str) -> CriterionResult:
    return next(c for c in result.criteria if c.key == key)


def quoted_from(summary: str, side: str, turn: Turn) -> bool:
    """Whether the summary's first quote of ``side`` is ``turn``'s words: three in four at
    least, as the instruction set may change a word Whisper hears ("does that" / "does not")."""
    match = re.search(rf'{side}: "([^"]*)"', summary)
    quote = re.findall(r"[\w']+", match.group(1).lower()) if match else []
    said = set(re.findall(r"[\w']+", turn.text.lower()))
    return bool(quote) and sum(word in said for word in quote) >= 0.75 * len(quote)


@pytest.fixture(scope="module")
def spoken_in(audio: AudioFactory) -> Callable[[CriterionResult, Turn], bool]:
    """Whether some evidence overlaps the time ``turn`` was spoken: where Whisper splits a
    line into segments differs from one CPU to another, the time the words take does not."""

    def check(result: CriterionResult, turn: Turn) -> bool:
        samples, rate = read_wav(audio.speech(turn.text))
        end = turn.start + len(samples) / rate
        return any(e.start < end and e.end > turn.start for e in result.evidence if e.text)

    return check


def test_a_good_call_scores_high_with_evidence_where_the_lines_were_spoken(
    transcribe: Callable[[list[Turn]], Transcript],
    spoken_in: Callable[[CriterionResult, Turn], bool],
) -> None:
    result = analyze(transcribe(GOOD), BUILTIN["general"])

    assert result.quality_score is not None and result.quality_score >= 85, result.improvements
    assert result.categories["greeting"] == 100
    assert result.categories["closing"] == 100
    assert result.compliance_status == "passed"
    for key in ("greet", "introduce", "offer_help"):
        assert spoken_in(criterion(result, key), GOOD[0]), criterion(result, key)
    assert spoken_in(criterion(result, "resolve"), GOOD[3])
    assert spoken_in(criterion(result, "anything_else"), GOOD[5])
    assert spoken_in(criterion(result, "farewell"), GOOD[5])
    assert all(e.speaker == "agent" for c in result.criteria for e in c.evidence if e.text)
    assert result.metrics.talk_ratio is not None and 0.5 < result.metrics.talk_ratio < 0.9
    assert result.metrics.overtalk == 0.0
    assert result.summary.startswith("Customer: ")
    assert quoted_from(result.summary, "Customer", GOOD[1]), result.summary
    assert quoted_from(result.summary, "Agent", GOOD[3]), result.summary


def test_a_call_that_never_greets_or_closes_scores_lower_with_those_improvements_first(
    transcribe: Callable[[list[Turn]], Transcript],
) -> None:
    good = analyze(transcribe(GOOD), BUILTIN["general"])
    abrupt = analyze(transcribe(ABRUPT), BUILTIN["general"])

    assert abrupt.quality_score is not None and good.quality_score is not None
    assert abrupt.quality_score <= good.quality_score - 30
    assert abrupt.categories["greeting"] == 0
    assert abrupt.categories["closing"] == 0
    assert abrupt.categories["problemResolution"] == 100
    greeting_and_closing = {
        c.description for c in abrupt.criteria if c.category in ("greeting", "closing")
    }
    first = [line.split(": ")[0] for line in abrupt.improvements[:5]]
    assert set(first) == greeting_and_closing
    assert first[0] == "Greet the customer"  # the costliest: 10 points


def test_a_forbidden_phrase_fails_professionalism_and_compliance(
    transcribe: Callable[[list[Turn]], Transcript],
    spoken_in: Callable[[CriterionResult, Turn], bool],
) -> None:
    result = analyze(transcribe(RUDE), BUILTIN["general"])

    courteous = criterion(result, "courteous")
    assert courteous.passed is False
    assert "not my problem" in courteous.detail
    assert spoken_in(courteous, RUDE[2])
    assert result.categories["professionalism"] is not None
    assert result.categories["professionalism"] < 100
    assert result.categories["greeting"] == 100
    assert result.compliance_status == "failed"
    assert any(line.startswith("Stay courteous") for line in result.improvements)


def test_a_collections_call_that_skips_the_disclosure_fails_compliance(
    transcribe: Callable[[list[Turn]], Transcript],
) -> None:
    result = analyze(transcribe(UNDISCLOSED), BUILTIN["collections"])

    assert result.compliance_status == "failed"
    disclosure = criterion(result, "mini_miranda")
    assert disclosure.passed is False
    assert disclosure.compliance
    assert result.improvements[0].startswith(
        "Give the mini-Miranda disclosure in the first 60 seconds: none of the expected phrases"
    )
    assert criterion(result, "verify_identity").passed is True
    assert criterion(result, "ask_payment").passed is True
    assert criterion(result, "no_threats").passed is True


def test_a_collections_call_with_the_disclosure_passes_compliance(
    transcribe: Callable[[list[Turn]], Transcript],
    spoken_in: Callable[[CriterionResult, Turn], bool],
) -> None:
    result = analyze(transcribe(DISCLOSED), BUILTIN["collections"])

    assert result.compliance_status == "passed"
    disclosure = criterion(result, "mini_miranda")
    assert disclosure.passed is True
    assert spoken_in(disclosure, DISCLOSED[2])
    assert result.categories["disclosure"] == 100
