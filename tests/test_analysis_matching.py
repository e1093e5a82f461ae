# ruff: noqa: RUF001  (Russian phrases)
"""aica.analysis.matching: inflected, glued and split words; negations; lemmas."""

from __future__ import annotations

import pytest

from aica.analysis import BUILTIN
from aica.analysis.lemmas import lemma
from aica.analysis.matching import Hit, Index
from aica.transcript import Segment
from tests.negative_calls import ENGLISH, RUSSIAN


def hits(text: str, *phrases: str) -> list[Hit]:
    """Where ``phrases`` are found in a one-segment transcript saying ``text``."""
    index = Index.build([Segment(0.0, 5.0, "agent", 0, text)])
    return index.find(phrases, [0], 0.0, 5.0)


def heard(text: str, *phrases: str) -> list[str]:
    return [h.heard for h in hits(text, *phrases)]


@pytest.mark.parametrize(
    ("said", "phrase", "expected"),
    [
        ("Ты тупая, что ли?", "тупой", "тупая"),  # short phrases used to match only verbatim
        ("Вы сами виноваты.", "сам виноват", "сами виноваты"),
        ("Это не мои проблемы.", "это не моя проблема", "это не мои проблемы"),
        ("Я ответила на ваши вопросы.", "я ответил на ваш вопрос", "я ответила на ваши вопросы"),
        ("Какие же вы все дураки.", "дурак", "дураки"),
        ("Есть скидки для студентов.", "скидка", "скидки"),
        ("I have issued two refunds.", "refund", "refunds"),
        ("You are all liars.", "liar", "liars"),
        ("They are calling you idiots.", "idiot", "idiots"),
    ],
)
def test_inflected_forms_match_the_phrase(said: str, phrase: str, expected: str) -> None:
    assert heard(said, phrase) == [expected]


def test_an_inflected_match_shows_what_was_said_and_how_close_it_was() -> None:
    [hit] = hits("Ты тупая, что ли?", "тупой")
    assert (hit.heard, hit.target) == ("тупая", "тупой")
    assert hit.score < 100.0  # the analyzer then quotes it as 'close to "тупой"'


@pytest.mark.parametrize(
    ("said", "phrase", "expected"),
    [
        ("Выполучите письмо завтра.", "вы получите", "выполучите"),
        ("Выполучите скидку на заказ.", "вы получите скидку", "выполучите скидку"),
        ("Спасибо зазвонок.", "спасибо за звонок", "спасибо зазвонок"),
        ("Thank youfor calling Acme.", "thank you for calling", "thank youfor calling"),
    ],
)
def test_words_glued_or_split_by_the_recogniser_match(
    said: str, phrase: str, expected: str
) -> None:
    assert heard(said, phrase) == [expected]


@pytest.mark.parametrize(
    ("said", "phrase"),
    [
        ("You will not receive a refund.", "you will receive"),
        ("Деньги не вернутся, к сожалению.", "деньги вернутся"),
        ("The issue is not resolved yet.", "the issue is resolved"),
        ("Проблема не решена.", "проблема решена"),
    ],
)
def test_a_negation_the_phrase_lacks_voids_a_fuzzy_match(said: str, phrase: str) -> None:
    assert heard(said, phrase) == []


def test_a_negation_the_phrase_has_still_matches() -> None:
    assert heard("Honestly, that's not my problen.", "that's not my problem") == [
        "that is not my problen"
    ]


@pytest.mark.parametrize(
    ("said", "phrase"),
    [
        ("Слушаю Пас.", "слушаю вас"),  # 90% similar, but "вас"/"нас"/"пас" flip who is meant
        ("Слушаю нас.", "слушаю вас"),
        ("Мы получим письмо.", "вы получите"),
        ("That is not a problem.", "not my problem"),
        ("How can we help?", "how can i help"),
    ],
)
def test_short_words_are_still_heard_exactly(said: str, phrase: str) -> None:
    assert heard(said, phrase) == []


def test_lemmas_follow_the_script_of_the_word() -> None:
    assert [lemma(w) for w in ("тупая", "вас", "оформила", "всё")] == [
        "тупой",
        "вы",
        "оформить~past",
        "все",
    ]
    assert [lemma(w) for w in ("refunds", "calling", "42", "東京")] == [
        "refund",
        "call",
        "42",
        "東京",
    ]


@pytest.mark.parametrize(
    ("said", "phrase"),
    [
        ("Вас посадили на более ранний рейс?", "вас посадят"),
        ("Выполучили уведомление от банка?", "вы получите"),
        ("Мы с вами договоримся позже.", "договорились"),
    ],
)
def test_a_verb_in_another_tense_is_another_phrase(said: str, phrase: str) -> None:
    assert heard(said, phrase) == []


KNOWN_FALSE_POSITIVES = {
    # "take care" is a farewell, but its stem is "taking care (of it)" too
    ("I am taking care of it right now, one moment.", "take care"),
}


@pytest.mark.parametrize(("language", "lines"), [("en", ENGLISH), ("ru", RUSSIAN)])
def test_call_lines_without_the_phrases_match_almost_no_criterion(
    language: str, lines: list[str]
) -> None:
    criteria = [
        criterion
        for profile in BUILTIN.values()
        for category in profile.categories
        for criterion in category.criteria
        if criterion.kind == "phrase"
    ]
    found = {
        (line, hit.target)
        for line in lines
        for criterion in criteria
        for hit in hits(line, *criterion.phrases_for(language))
    }
    assert found == {pair for pair in KNOWN_FALSE_POSITIVES if pair[0] in lines}
    assert len(found) / (len(lines) * len(criteria)) < 0.002  # 1 (line, criterion) in 500
