# ruff: noqa: RUF001  (Russian phrases)
"""aica.analysis on transcripts built in code (exact times): matching, metrics, scoring."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aica.analysis import (
    BUILTIN,
    AnalysisResult,
    CallMetrics,
    Evidence,
    Profile,
    analyze,
    compute_metrics,
    parse_profile,
)
from aica.analysis.matching import normalize
from aica.analysis.summary import LIMIT, summarize
from aica.transcript import Segment, Speaker, Transcript, Word

CHANNEL = {"agent": 0, "customer": 1, "unknown": 0}


def seg(speaker: Speaker, start: float, end: float, text: str, *, timed: bool = False) -> Segment:
    """A segment; ``timed`` gives it word timestamps spread evenly over its span."""
    words: list[Word] = []
    if timed:
        parts = text.split()
        step = (end - start) / len(parts)
        words = [
            Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), w, 0.9)
            for i, w in enumerate(parts)
        ]
    return Segment(start, end, speaker, CHANNEL[speaker], text, words)


def call(*segments: Segment, duration: float | None = None, language: str = "en") -> Transcript:
    ordered = sorted(segments, key=lambda s: (s.start, s.channel))
    return Transcript(
        language=language,
        duration=duration if duration is not None else max(s.end for s in segments) + 1.0,
        channels=1 if all(s.speaker == "unknown" for s in segments) else 2,
        text=" ".join(s.text for s in ordered),
        segments=ordered,
    )


def profile(*criteria: dict[str, Any], **category: Any) -> Profile:
    """A one-category profile of ``criteria`` (descriptions default to the key)."""
    return parse_profile(
        {
            "key": "test",
            "name": "Test",
            "categories": [
                {
                    "key": category.get("key", "main"),
                    "name": "Main",
                    "criteria": [{"description": c["key"], **c} for c in criteria],
                }
            ],
        }
    )


def phrase(key: str, *phrases: str, **options: Any) -> dict[str, Any]:
    return {"key": key, "kind": "phrase", "phrases": list(phrases), **options}


def metric(key: str, name: str, operator: str, threshold: float, **options: Any) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "metric",
        "metric": name,
        "operator": operator,
        "threshold": threshold,
        **options,
    }


def result_of(transcript: Transcript, prof: Profile, key: str, **kw: Any) -> Any:
    return next(c for c in analyze(transcript, prof, **kw).criteria if c.key == key)


GOOD_CALL = call(
    seg("agent", 0.5, 6.0, "Good morning, thank you for calling Acme. My name is Sarah."),
    seg("agent", 6.2, 8.0, "How can I help you today?"),
    seg("customer", 9.0, 13.0, "Hi, I was charged twice for my order last week."),
    seg("agent", 14.0, 17.0, "I'm sorry about that, let me check your account."),
    seg("agent", 19.0, 24.0, "I've processed your refund for the second payment."),
    seg("agent", 24.2, 26.0, "Does that resolve your issue?"),
    seg("customer", 27.0, 29.0, "Yes it does, thank you so much."),
    seg("agent", 30.0, 33.0, "Is there anything else I can help you with?"),
    seg("customer", 34.0, 35.0, "No, that's all."),
    seg("agent", 35.5, 37.5, "Have a great day, goodbye."),
    duration=40.0,
)


# --------------------------------------------------------------------------------------------
# Phrases, fuzzy matching, normalisation
# --------------------------------------------------------------------------------------------


def test_a_phrase_passes_with_the_segment_as_evidence() -> None:
    prof = profile(phrase("greet", "thank you for calling"))
    r = result_of(GOOD_CALL, prof, "greet")
    assert r.passed is True
    assert r.score == 1.0
    assert r.evidence == [
        Evidence(0.5, 6.0, "agent", "Good morning, thank you for calling Acme. My name is Sarah.")
    ]
    assert r.detail == 'the agent said "thank you for calling" at 0:01'


def test_small_recognition_errors_still_match_but_other_sentences_do_not() -> None:
    prof = profile(phrase("greet", "Thank you for calling!", speaker="any"))
    misheard = call(seg("agent", 1.0, 4.0, "Hello, thank you for coling ACME support."))
    r = result_of(misheard, prof, "greet")
    assert r.passed is True
    assert r.detail == (
        'the agent said "thank you for coling" (close to "Thank you for calling!") at 0:01'
    )
    for unrelated in (
        "Thank you for holding, I am back.",  # a different phrase (similarity 85.7)
        "The weather in Boston is lovely today.",
        "Thank you.",
    ):
        r = result_of(call(seg("agent", 1.0, 4.0, unrelated)), prof, "greet")
        assert r.passed is False, unrelated
        assert r.evidence == []


def test_short_words_must_be_heard_exactly() -> None:
    rude = profile(phrase("courteous", "not my problem", forbidden=True))
    fine = call(seg("agent", 1.0, 3.0, "That is not a problem at all, sir."))
    assert result_of(fine, rude, "courteous").passed is True
    said = call(seg("agent", 1.0, 3.0, "Honestly, that's not my problem."))
    assert result_of(said, rude, "courteous").passed is False
    # a phrase under 8 characters matches only exactly (spaces aside)
    short = profile(phrase("bye", "goodbye", "shut up", forbidden=True))
    assert result_of(call(seg("agent", 1, 2, "Shot up the stairs.")), short, "bye").passed
    assert not result_of(call(seg("agent", 1, 2, "Okay, good bye.")), short, "bye").passed


def test_normalisation_lowercases_spells_out_contractions_and_reads_yo_as_ye() -> None:
    assert normalize("  I've PROCESSED   your refund, it's done!") == (
        "i have processed your refund it is done"
    )
    assert normalize("Don't — can't; won't") == "do not can not will not"
    assert normalize("Ещё раз: всё ХОРОШО.") == "еще раз все хорошо"
    prof = profile(phrase("done", "I have processed your refund", "моё имя"))
    assert result_of(call(seg("agent", 0, 3, "I've processed your refund.")), prof, "done").passed
    assert result_of(call(seg("agent", 0, 3, "Мое имя Анна.")), prof, "done").passed


def test_a_regex_criterion_matches_the_segment_text_case_insensitively() -> None:
    prof = profile(
        {"key": "order", "kind": "regex", "pattern": r"\border (number|#) ?\d+", "speaker": "any"}
    )
    transcript = call(
        seg("agent", 0.0, 2.0, "Hello."),
        seg("customer", 3.0, 7.0, "It is Order number 4521, placed Monday.", timed=True),
    )
    r = result_of(transcript, prof, "order")
    assert r.passed is True
    assert r.evidence == [Evidence(3.0, 7.0, "customer", "It is Order number 4521, placed Monday.")]
    # word timestamps place the match: "Order" is the third of seven words
    assert r.detail == 'the customer said "Order number 4521" at 0:04'
    assert result_of(call(seg("agent", 0, 2, "No numbers here.")), prof, "order").passed is False


def test_a_regex_reads_yo_as_ye_but_quotes_the_original() -> None:
    prof = profile({"key": "ready", "kind": "regex", "pattern": r"вс[её] готово"})
    transcript = call(seg("agent", 0.0, 2.0, "Всё готово!", timed=True), language="ru")
    assert result_of(transcript, prof, "ready").detail == 'the agent said "Всё готово" at 0:00'


# --------------------------------------------------------------------------------------------
# Speaker and windows
# --------------------------------------------------------------------------------------------


def test_the_speaker_filter_keeps_one_side() -> None:
    transcript = call(
        seg("agent", 0.0, 3.0, "Good morning."),
        seg("customer", 4.0, 7.0, "I want to cancel my subscription."),
    )
    agent_says = profile(phrase("cancel", "cancel my subscription"))  # agent by default
    customer_says = profile(phrase("cancel", "cancel my subscription", speaker="customer"))
    anyone = profile(phrase("cancel", "cancel my subscription", speaker="any"))
    assert result_of(transcript, agent_says, "cancel").passed is False
    assert result_of(transcript, agent_says, "cancel").detail == (
        'none of the expected phrases (such as "cancel my subscription") was heard from the agent'
    )
    assert result_of(transcript, customer_says, "cancel").passed is True
    assert result_of(transcript, anyone, "cancel").passed is True


def test_a_first_window_counts_from_the_start_of_the_recording() -> None:
    prof = profile(phrase("greet", "good morning", window={"position": "first", "seconds": 15}))
    in_time = call(seg("agent", 13.0, 16.0, "Good morning, Acme support."), duration=60)
    late = call(seg("agent", 15.5, 18.0, "Good morning, Acme support."), duration=60)
    assert result_of(in_time, prof, "greet").passed is True
    r = result_of(late, prof, "greet")
    assert r.passed is False
    assert r.detail.endswith("was heard from the agent in the first 15 s")


def test_a_last_window_ends_with_the_last_speech_not_the_recording() -> None:
    prof = profile(phrase("bye", "have a great day", window={"position": "last", "seconds": 20}))
    transcript = call(
        seg("agent", 0.0, 3.0, "Have a great day is our motto."),
        seg("customer", 5.0, 60.0, "A long story about the order."),
        seg("agent", 61.0, 64.0, "Thanks, have a great day!"),
        duration=200.0,  # two minutes of line noise after the call ended
    )
    r = result_of(transcript, prof, "bye")
    assert r.passed is True
    assert [e.start for e in r.evidence] == [61.0]  # not the one at 0:00
    early = call(
        seg("agent", 0.0, 3.0, "Have a great day is our motto."),
        seg("customer", 5.0, 60.0, "A long story about the order."),
        duration=200.0,
    )
    assert result_of(early, prof, "bye").passed is False


def test_a_forbidden_phrase_fails_with_where_it_was_said() -> None:
    prof = profile(
        phrase("courteous", "shut up", "calm down", forbidden=True, compliance=True),
    )
    clean = analyze(GOOD_CALL, prof)
    assert clean.criteria[0].passed is True
    assert clean.criteria[0].detail == "none of the forbidden phrases was heard from the agent"
    assert clean.compliance_status == "passed"

    rude = call(
        seg("customer", 0.0, 4.0, "This is the third time I call, shut up and listen!"),
        seg("agent", 5.0, 8.0, "Sir, calm down please."),
    )
    result = analyze(rude, prof)
    r = result.criteria[0]
    assert r.passed is False
    assert r.evidence == [Evidence(5.0, 8.0, "agent", "Sir, calm down please.")]
    assert r.detail == 'the agent said "calm down" at 0:05'
    assert result.compliance_status == "failed"
    assert result.improvements == ['courteous: the agent said "calm down" at 0:05']


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

METRIC_CALL = call(
    seg("agent", 0.0, 10.0, " ".join(["word"] * 20)),
    seg("customer", 8.0, 20.0, " ".join(["reply"] * 24)),
    seg("agent", 25.0, 30.0, " ".join(["more"] * 10)),
    duration=40.0,
)


def test_metrics_are_computed_from_segment_times_and_words() -> None:
    assert compute_metrics(METRIC_CALL) == CallMetrics(
        duration=40.0,
        speech=25.0,
        agent_talk=15.0,
        customer_talk=12.0,
        talk_ratio=0.5556,  # 15 / 27
        silence=5.0,  # 20..25; before 0 and after 30 is not dead air
        silence_ratio=0.1667,  # 5 / 30
        longest_silence=5.0,
        overtalk=2.0,  # 8..10
        agent_wpm=120.0,  # 30 words in 15 s
        customer_wpm=120.0,
    )


def test_metrics_over_a_stretch_of_the_call() -> None:
    m = compute_metrics(METRIC_CALL, start=0.0, end=10.0)
    assert (m.duration, m.agent_talk, m.customer_talk, m.overtalk) == (10.0, 10.0, 2.0, 2.0)
    assert m.talk_ratio == pytest.approx(10 / 12, abs=1e-4)
    assert m.customer_wpm == 120.0  # 24 words over 12 s, 2 s of them inside: 4 words in 2 s


def test_word_timestamps_count_words_for_the_pace() -> None:
    transcript = call(seg("agent", 0.0, 6.0, "one two three four five six seven", timed=True))
    assert compute_metrics(transcript).agent_wpm == 70.0


def test_a_call_in_which_nobody_speaks_is_all_silence() -> None:
    empty = Transcript(language="en", duration=12.0, channels=2, text="", segments=[])
    m = compute_metrics(empty)
    assert (m.speech, m.silence, m.silence_ratio, m.longest_silence) == (0.0, 12.0, 1.0, 12.0)
    assert m.talk_ratio is None


@pytest.mark.parametrize(
    ("name", "operator", "threshold", "passed"),
    [
        ("talk_ratio", "lte", 0.5556, True),
        ("talk_ratio", "lt", 0.5556, False),
        ("talk_ratio", "gt", 0.5, True),
        ("silence_ratio", "lt", 0.2, True),
        ("longest_silence", "lte", 4.9, False),
        ("longest_silence", "gte", 5.0, True),
        ("overtalk", "lte", 2.0, True),
        ("overtalk", "lt", 2.0, False),
        ("agent_wpm", "lte", 119.9, False),
        ("agent_wpm", "gte", 120.0, True),
        ("duration", "gt", 39.0, True),
        ("duration", "lt", 40.0, False),
    ],
)
def test_metric_thresholds(name: str, operator: str, threshold: float, passed: bool) -> None:
    prof = profile(metric("m", name, operator, threshold))
    assert result_of(METRIC_CALL, prof, "m").passed is passed


def test_a_metric_detail_reads_like_a_sentence() -> None:
    prof = profile(
        metric("pace", "agent_wpm", "lte", 100),
        metric("dead_air", "longest_silence", "lte", 3),
        metric("share", "talk_ratio", "lte", 0.5),
    )
    result = analyze(METRIC_CALL, prof)
    details = {c.key: c.detail for c in result.criteria}
    assert details == {
        "pace": "agent pace was 120 words a minute (target: at most 100 words a minute)",
        "dead_air": "longest silence was 5 s (target: at most 3 s) at 0:20",
        "share": "agent talk ratio was 56% (target: at most 50%)",
    }
    dead_air = next(c for c in result.criteria if c.key == "dead_air")
    assert dead_air.evidence == [Evidence(20.0, 25.0, "none", "")]


def test_a_windowed_metric_measures_that_stretch_only() -> None:
    prof = profile(
        metric(
            "opening_share", "talk_ratio", "gte", 0.8, window={"position": "first", "seconds": 10}
        )
    )
    r = result_of(METRIC_CALL, prof, "opening_share")
    assert r.passed is True
    assert r.detail == "agent talk ratio in the first 10 s was 83% (target: at least 80%)"


# --------------------------------------------------------------------------------------------
# Mono calls
# --------------------------------------------------------------------------------------------

MONO = call(
    seg("unknown", 0.5, 4.0, "Thank you for calling, how can I help?"),
    seg("unknown", 5.0, 9.0, "My parcel never arrived in Denver."),
    seg("unknown", 10.0, 14.0, "I have sent a replacement, have a great day."),
    duration=15.0,
)


def test_mono_calls_have_no_side_metrics() -> None:
    m = compute_metrics(MONO)
    assert m.speech == 11.5
    assert m.silence == 2.0
    assert m.agent_talk is m.customer_talk is m.talk_ratio is m.overtalk is None
    assert m.agent_wpm is m.customer_wpm is None


def test_side_metrics_on_a_mono_call_are_not_applicable_and_not_scored() -> None:
    prof = parse_profile(
        {
            "key": "t",
            "name": "T",
            "categories": [
                {
                    "key": "talk",
                    "name": "Talk",
                    "criteria": [
                        {
                            "description": "Let them talk",
                            **metric("share", "talk_ratio", "lte", 0.6),
                        },
                        {"description": "Pace", **metric("pace", "agent_wpm", "lte", 160)},
                    ],
                },
                {
                    "key": "greeting",
                    "name": "Greeting",
                    "criteria": [
                        {"description": "Greet", **phrase("greet", "thank you for calling")}
                    ],
                },
            ],
        }
    )
    result = analyze(MONO, prof)
    share = result.criteria[0]
    assert share.passed is None
    assert share.score == 0.0 and share.points == 0.0
    assert share.detail == (
        "not applicable: agent talk ratio is undefined (the sides are not separated in a mono call)"
    )
    assert result.categories == {"talk": None, "greeting": 100}
    assert result.quality_score == 100.0
    assert result.improvements == []


def test_speaker_filters_on_a_mono_call_check_both_sides() -> None:
    prof = profile(phrase("parcel", "my parcel never arrived"))  # agent, by default
    r = result_of(MONO, prof, "parcel")
    assert r.passed is True
    assert r.detail == 'heard "my parcel never arrived" at 0:05'
    missing = profile(phrase("x", "purple elephant"))
    assert result_of(MONO, missing, "x").detail.endswith(
        "was heard (mono call: both sides checked)"
    )


# --------------------------------------------------------------------------------------------
# Scoring, improvements, compliance
# --------------------------------------------------------------------------------------------

WEIGHTED = parse_profile(
    {
        "key": "weighted",
        "name": "Weighted",
        "categories": [
            {
                "key": "opening",
                "name": "Opening",
                "weight": 2,
                "criteria": [
                    {"description": "Say hello", **phrase("hello", "good morning")},
                    {
                        "description": "Mention the offer",
                        **phrase("offer", "purple elephant"),
                        "weight": 2,
                    },
                ],
            },
            {
                "key": "closing",
                "name": "Closing",
                "weight": 1,
                "criteria": [
                    {"description": "Say goodbye", **phrase("bye", "have a great day")},
                    {"description": "Recap", **phrase("recap", "to summarise"), "weight": 0.5},
                ],
            },
        ],
    }
)


def test_scores_are_weighted_shares_of_passed_criteria() -> None:
    result = analyze(GOOD_CALL, WEIGHTED)
    # opening: 1 of 3 weight passed -> 33.3; closing: 1 of 1.5 -> 66.7
    assert result.categories == {"opening": 33, "closing": 67}
    # (2 x 33.33 + 1 x 66.67) / 3
    assert result.quality_score == 44.4
    points = {c.key: c.points for c in result.criteria}
    # 100 x category share x criterion share
    assert points == {"hello": 22.22, "offer": 44.44, "bye": 22.22, "recap": 11.11}
    passed = sum(c.points for c in result.criteria if c.passed)
    assert passed == pytest.approx(44.44, abs=0.01)


def test_improvements_come_most_costly_first() -> None:
    result = analyze(GOOD_CALL, WEIGHTED)
    assert result.improvements == [
        'Mention the offer: none of the expected phrases (such as "purple elephant") was heard '
        "from the agent",
        'Recap: none of the expected phrases (such as "to summarise") was heard from the agent',
    ]
    silent = call(seg("customer", 0.0, 2.0, "Hello?"))
    assert [line.split(":")[0] for line in analyze(silent, WEIGHTED).improvements] == [
        "Mention the offer",  # 44.4 points
        "Say hello",  # 22.2, earlier in the profile than "Say goodbye"
        "Say goodbye",  # 22.2
        "Recap",  # 11.1
    ]


def test_compliance_is_not_checked_without_compliance_criteria() -> None:
    assert analyze(GOOD_CALL, WEIGHTED).compliance_status == "not_checked"


def test_compliance_fails_when_a_required_disclosure_is_missing() -> None:
    prof = profile(
        phrase(
            "disclosure",
            "this call is recorded",
            compliance=True,
            window={"position": "first", "seconds": 30},
        ),
        phrase("bye", "goodbye"),
    )
    said = call(seg("agent", 2.0, 5.0, "Hello, this call is recorded for quality."))
    assert analyze(said, prof).compliance_status == "passed"
    missing = analyze(call(seg("agent", 2.0, 5.0, "Hello there.")), prof)
    assert missing.compliance_status == "failed"
    assert missing.improvements[0].startswith("disclosure: none of the expected phrases")


def test_compliance_on_only_inapplicable_criteria_is_not_checked() -> None:
    prof = profile(metric("share", "talk_ratio", "lte", 0.7, compliance=True))
    result = analyze(MONO, prof)
    assert result.compliance_status == "not_checked"
    assert result.quality_score is None  # nothing could be scored
    assert result.categories == {"main": None}


def test_a_call_without_speech_is_not_scored() -> None:
    silent = Transcript(language="en", duration=30.0, channels=2, text="", segments=[])
    for prof in BUILTIN.values():
        result = analyze(silent, prof)
        assert result.quality_score is None
        assert result.compliance_status == "not_checked"
        assert set(result.categories.values()) == {None}
        assert {c.passed for c in result.criteria} == {None}
        assert result.criteria[0].detail == "not applicable: nobody speaks in this call"
        assert result.improvements == []
        assert result.summary == ""
        assert result.metrics.silence == 30.0


def test_the_general_profile_scores_a_good_call_fully() -> None:
    result = analyze(GOOD_CALL, BUILTIN["general"])
    assert result.categories == {
        "greeting": 100,
        "problemResolution": 100,
        "professionalism": 100,
        "closing": 100,
    }
    assert result.quality_score == 100.0
    assert result.compliance_status == "passed"
    assert result.improvements == []
    by_key = {c.key: c for c in result.criteria}
    assert by_key["greet"].evidence[0].start == 0.5
    assert by_key["farewell"].evidence[-1].start == 35.5
    assert by_key["resolve"].evidence[0].text == (
        "I've processed your refund for the second payment."
    )


# --------------------------------------------------------------------------------------------
# Languages
# --------------------------------------------------------------------------------------------

RUSSIAN_CALL = call(
    seg("agent", 0.5, 5.0, "Здравствуйте! Меня зовут Анна, чем могу помочь?"),
    seg("customer", 6.0, 10.0, "С моей карты дважды списали деньги за заказ."),
    seg("agent", 11.0, 14.0, "Сейчас проверю. Я оформила возврат, деньги вернутся завтра."),
    seg("agent", 14.5, 16.0, "Это решает ваш вопрос?"),
    seg("customer", 17.0, 18.0, "Да, спасибо большое."),
    seg("agent", 19.0, 22.0, "Остались ли у вас вопросы? Всего доброго!"),
    language="ru",
)


def test_russian_calls_are_scored_with_the_russian_phrases() -> None:
    result = analyze(RUSSIAN_CALL, BUILTIN["general"])
    assert result.language == "ru"
    assert result.categories["greeting"] == 100
    assert result.categories["problemResolution"] == 100
    assert result.categories["closing"] == 100
    by_key = {c.key: c for c in result.criteria}
    assert by_key["introduce"].detail == 'the agent said "меня зовут" at 0:01'
    assert by_key["farewell"].evidence[0].start == 19.0


def test_the_language_argument_picks_the_phrase_set() -> None:
    # an English phrase set does not hear Russian greetings
    english = analyze(RUSSIAN_CALL, BUILTIN["general"], language="en-US")
    assert english.language == "en"
    assert english.categories["greeting"] == 0
    # a language without a phrase set listens for every set
    other = analyze(RUSSIAN_CALL, BUILTIN["general"], language="uk")
    assert other.categories["greeting"] == 100


def test_an_english_call_labelled_russian_is_scored_with_the_english_phrases() -> None:
    # a project forced to "ru" gets an English call back in English words
    mislabelled = Transcript(**{**vars(GOOD_CALL), "language": "ru"})
    result = analyze(mislabelled, BUILTIN["general"])
    assert result.language == "en"
    assert result.quality_score == 100.0


def test_a_russian_call_labelled_in_a_latin_script_language_is_scored_in_russian() -> None:
    for label in ("lt", "en"):
        result = analyze(
            Transcript(**{**vars(RUSSIAN_CALL), "language": label}), BUILTIN["general"]
        )
        assert result.language == "ru", label
        assert result.categories["greeting"] == 100


def test_a_label_of_the_same_script_stands() -> None:
    # Ukrainian and Russian share letters: the label cannot be second-guessed
    assert (
        analyze(Transcript(**{**vars(RUSSIAN_CALL), "language": "uk"}), BUILTIN["general"]).language
        == "uk"
    )
    # a Russian call naming an English product is still Russian
    quoting = call(
        seg("agent", 0.0, 4.0, "Здравствуйте, вы звоните в поддержку Acme Cloud."), language="ru"
    )
    assert analyze(quoting, BUILTIN["general"]).language == "ru"


# --------------------------------------------------------------------------------------------
# Summary, JSON, determinism
# --------------------------------------------------------------------------------------------


def test_the_summary_quotes_the_request_how_it_was_handled_and_the_reply() -> None:
    assert analyze(GOOD_CALL, WEIGHTED).summary == (
        'Customer: "Hi, I was charged twice for my order last week." '
        'Agent: "I\'ve processed your refund for the second payment." '
        'Customer: "Yes it does, thank you so much."'
    )
    # a short opener is followed by the customer's next sentence
    transcript = call(
        seg("agent", 0.0, 2.0, "Acme support, good morning."),
        seg("customer", 3.0, 4.0, "Hello."),
        seg("customer", 4.5, 9.0, "Hi. My parcel never arrived. It was due on Monday."),
        seg("agent", 10.0, 14.0, "I have sent a replacement by express courier."),
    )
    assert summarize(transcript.segments) == (
        'Customer: "My parcel never arrived. It was due on Monday." '
        'Agent: "I have sent a replacement by express courier."'
    )


def test_the_summary_of_a_mono_call_quotes_its_first_and_last_segments() -> None:
    assert summarize(MONO.segments) == (
        '"Thank you for calling, how can I help?" … "I have sent a replacement, have a great day."'
    )
    assert summarize(MONO.segments[:1]) == '"Thank you for calling, how can I help?"'


def test_the_summary_stays_short() -> None:
    long_words = " ".join(f"complaint{i}" for i in range(200))
    transcript = call(
        seg("customer", 0.0, 30.0, long_words),
        seg("agent", 31.0, 60.0, long_words),
        seg("customer", 61.0, 90.0, long_words),
    )
    text = summarize(transcript.segments)
    assert len(text) <= LIMIT
    assert text.startswith('Customer: "complaint0 complaint1')
    assert text.count("…") == 3
    assert summarize([]) == ""


def test_the_result_round_trips_through_json() -> None:
    result = analyze(GOOD_CALL, BUILTIN["general"])
    stored = json.loads(json.dumps(result.to_json()))
    assert list(stored) == [
        "profile",
        "language",
        "qualityScore",
        "categories",
        "complianceStatus",
        "improvements",
        "summary",
        "criteria",
        "metrics",
    ]
    assert list(stored["metrics"]) == [
        "duration",
        "speech",
        "agentTalk",
        "customerTalk",
        "talkRatio",
        "silence",
        "silenceRatio",
        "longestSilence",
        "overtalk",
        "agentWpm",
        "customerWpm",
    ]
    assert set(stored["criteria"][0]) == {
        "key",
        "category",
        "description",
        "kind",
        "compliance",
        "passed",
        "score",
        "points",
        "detail",
        "evidence",
    }
    assert AnalysisResult.from_json(stored) == result


def test_analysis_is_deterministic() -> None:
    for prof in BUILTIN.values():
        first = analyze(GOOD_CALL, prof)
        again = analyze(Transcript.from_json(json.loads(json.dumps(GOOD_CALL.to_json()))), prof)
        assert first == again
        assert json.dumps(first.to_json()) == json.dumps(again.to_json())
