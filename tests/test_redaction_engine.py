# ruff: noqa: RUF001  (Russian phrases: Cyrillic letters that look Latin are meant)
"""The redaction engine on words as the recogniser writes them: what is personal data and what
is an ordinary number, in English and Russian, and what the transcript looks like afterwards."""

from __future__ import annotations

import numpy as np
import pytest

from aica.redaction import Span, redact, silence
from aica.redaction.detect import find
from aica.redaction.numerals import read_numbers
from aica.transcript import Segment, Transcript, Word


def found(text: str, language: str = "en") -> list[tuple[str, str]]:
    words = text.split()
    return [(f.kind, " ".join(words[f.first : f.last + 1])) for f in find(words, language)]


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("four five three nine", "4539"),
        ("forty five thirty nine", "4539"),
        ("twenty one", "21"),
        ("four hundred fifteen", "415"),
        ("nineteen eighty", "1980"),
        ("two thousand six hundred seventy one", "2671"),
        ("one hundred and fifty", "150"),
        ("zero three four three", "0343"),
        ("double eight", "88"),
        ("сорок два", "42"),
        ("четыре один один один", "4111"),
        ("тысяча девятьсот восемьдесят пятого", "1985"),
        ("восемь девятьсот шестнадцать", "8916"),
        ("двух четырёх", "24"),
    ],
)
def test_spoken_numbers_are_read_as_the_digits_a_person_means(said: str, digits: str) -> None:
    assert "".join(g.digits for g in read_numbers(said.split())) == digits


@pytest.mark.parametrize(
    ("text", "language", "kind", "span"),
    [
        ("My card is 4539 1488 0343 6467 thanks", "en", "CARD", "4539 1488 0343 6467"),
        ("It is 4539148803436467.", "en", "CARD", "4539148803436467."),
        (
            "card number four five three nine one four eight eight zero three four three "
            "six four six seven ok",
            "en",
            "CARD",
            "four five three nine one four eight eight zero three four three six four six seven",
        ),
        (
            "it's forty five thirty nine, fourteen eighty eight, oh three four three, "
            "sixty four sixty seven",
            "en",
            "CARD",
            "forty five thirty nine, fourteen eighty eight, oh three four three, "
            "sixty four sixty seven",
        ),
        ("card number is 4539, 148, 0343, 647, thank you", "en", "CARD", "4539, 148, 0343, 647,"),
        (
            "номер карты четыре пять три девять один четыре восемь восемь ноль три четыре "
            "три шесть четыре шесть семь",
            "ru",
            "CARD",
            "четыре пять три девять один четыре восемь восемь ноль три четыре три шесть "
            "четыре шесть семь",
        ),
        ("call me on 415-555-2671 please", "en", "PHONE", "415-555-2671"),
        (
            "plus one four hundred fifteen five hundred fifty five two thousand six hundred "
            "seventy one.",
            "en",
            "PHONE",
            "plus one four hundred fifteen five hundred fifty five two thousand six hundred "
            "seventy one.",
        ),
        ("my phone is four one five, five five five, two six seven one.", "en", "PHONE",
         "four one five, five five five, two six seven one."),
        ("мой телефон восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят "
         "семь", "ru", "PHONE",
         "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь"),
        ("звоните +7 916 123-45-67", "ru", "PHONE", "+7 916 123-45-67"),
        ("write to john.smith@gmail.com please", "en", "EMAIL", "john.smith@gmail.com"),
        ("it is john dot smith at gmail dot com.", "en", "EMAIL",
         "john dot smith at gmail dot com."),
        ("it is j o h n at example dot com", "en", "EMAIL", "j o h n at example dot com"),
        ("my email is john.smith.gmail.com, thanks", "en", "EMAIL", "john.smith.gmail.com,"),
        ("e-mail address is john .mit that gmail.com. Thank you", "en", "EMAIL",
         "john .mit that gmail.com."),
        ("почта иван собака яндекс точка ру", "ru", "EMAIL", "иван собака яндекс точка ру"),
        ("my IBAN is GB82 WEST 1234 5698 7654 32 ok", "en", "IBAN",
         "GB82 WEST 1234 5698 7654 32"),
        ("account number 12345678 please", "en", "ACCOUNT", "12345678"),
        ("расчетный счет 40702810900000012345", "ru", "ACCOUNT", "40702810900000012345"),
        ("I was born on the fifth of May nineteen eighty", "en", "DOB",
         "fifth of May nineteen eighty"),
        ("date of birth 12/05/1980", "en", "DOB", "12/05/1980"),
        ("дата рождения пятое мая тысяча девятьсот восемьдесят пятого года", "ru", "DOB",
         "пятое мая тысяча девятьсот восемьдесят пятого"),
        ("my social security number is 536 90 4399", "en", "ID", "536 90 4399"),
        ("снилс 112 233 445 95", "ru", "ID", "112 233 445 95"),
        ("паспорт серия 4510 номер 123456", "ru", "ID", "4510 номер 123456"),
        ("мой инн 7707083893", "ru", "ID", "7707083893"),
    ],
)  # fmt: skip
def test_personal_data_is_found_written_or_spoken(
    text: str, language: str, kind: str, span: str
) -> None:
    assert found(text, language) == [(kind, span)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("It took twenty minutes and cost one hundred and fifty dollars", "en"),
        ("your order number is 1234 5678 9012 3456", "en"),  # fails Luhn, no card keyword
        ("the ticket is four one one one one one one one one one one one one one one two", "en"),
        ("we have 3 offices and 250 people since 2015", "en"),
        ("I'm at home, look at the screen dot", "en"),
        ("see www.example.com for the terms", "en"),
        ("I read it at example.com. Then I called", "en"),
        ("звонок длился двадцать минут и стоил сто пятьдесят рублей", "ru"),
        ("номер заказа 1234 5678 9012 3456", "ru"),
        ("снилс 112 233 445 96", "ru"),  # wrong checksum
        ("инн 7707083894", "ru"),  # wrong checksum
        ("the year nineteen eighty was good", "en"),  # a year, nobody's birth
    ],
)
def test_ordinary_numbers_and_words_stay(text: str, language: str) -> None:
    assert found(text, language) == []


def test_national_ids_are_those_of_the_calls_language() -> None:
    assert found("снилс 112 233 445 95", "en") == []
    assert found("social security 536 90 4399", "ru") == []


def _words(text: str, start: float, step: float = 0.5) -> list[Word]:
    return [
        Word(start + i * step, start + i * step + step * 0.8, w, 0.9)
        for i, w in enumerate(text.split())
    ]


def test_every_word_of_a_span_becomes_the_placeholder_and_timings_are_kept() -> None:
    first = _words("Hello, my card is four five three nine, one four eight eight,", 0.0)
    second = _words("zero three four three, six four six seven. Thanks!", 10.0)
    other = _words("Thank you, my number is 415-555-2671.", 2.0)
    transcript = Transcript(
        language="en",
        duration=20.0,
        channels=2,
        text="",
        segments=[
            Segment(0.0, 6.0, "customer", 1, " ".join(w.word for w in first), first),
            Segment(2.0, 6.0, "agent", 0, " ".join(w.word for w in other), other),
            Segment(10.0, 15.0, "customer", 1, " ".join(w.word for w in second), second),
        ],
    )

    result = redact(transcript)

    card_words = [w for s in result.transcript.segments for w in s.words if w.word == "[CARD]"]
    assert len(card_words) == 16
    timings = [(w.start, w.end) for s in result.transcript.segments for w in s.words]
    assert timings == [(w.start, w.end) for s in transcript.segments for w in s.words]
    texts = [s.text for s in result.transcript.segments]
    assert texts == [
        "Hello, my card is [CARD],",
        "Thank you, my number is [PHONE].",
        "[CARD]. Thanks!",
    ]
    assert result.transcript.text == " ".join(texts)
    assert result.spans == [
        Span("CARD", first[4].start, second[7].end, 1),
        Span("PHONE", other[5].start, other[5].end, 0),
    ]
    assert transcript.segments[0].words[4].word == "four"  # the input is left alone


def test_a_transcript_without_personal_data_comes_back_unchanged() -> None:
    words = _words("It took twenty minutes, thank you.", 0.0)
    transcript = Transcript("en", 4.0, 1, "It took twenty minutes, thank you.", [
        Segment(0.0, 4.0, "unknown", 0, "It took twenty minutes, thank you.", words)
    ])  # fmt: skip
    result = redact(transcript)
    assert result.transcript == transcript and result.spans == []


def test_silence_zeroes_every_channel_over_a_span_with_padding() -> None:
    rate = 1000
    channels = [np.ones(5 * rate, np.float32), np.full(5 * rate, 0.5, np.float32)]
    out = silence(channels, rate, [Span("CARD", 2.0, 3.0, 1)], padding=0.25)
    for before, after in zip(channels, out, strict=True):
        assert not after[1750:3250].any()
        assert np.array_equal(after[:1750], before[:1750])
        assert np.array_equal(after[3250:], before[3250:])
    assert channels[0].all()  # the input is left alone


def test_a_tone_can_cover_a_span_instead_of_silence() -> None:
    rate = 16_000
    speech = np.random.default_rng(3).uniform(-0.5, 0.5, 4 * rate).astype(np.float32)
    [out] = silence([speech], rate, [Span("PHONE", 1.0, 2.0, 0)], tone=True, padding=0.0)
    covered = out[rate : 2 * rate]
    assert abs(float(np.sqrt(np.mean(covered**2))) - 0.1 / np.sqrt(2)) < 0.005
    spectrum = np.abs(np.fft.rfft(covered))
    assert abs(float(np.fft.rfftfreq(len(covered), 1 / rate)[spectrum.argmax()]) - 1000) < 5
    assert np.array_equal(out[: rate - 1], speech[: rate - 1])


def test_a_card_heard_short_takes_the_number_one_misheard_word_later_as_its_tail() -> None:
    # "... three zero one zero, nine nine zero three" as a recogniser wrote it
    said = (
        "My other card is five four two five, two three three four, three zero one zero, I'm 003."
    )
    assert found(said) == [
        ("CARD", "five four two five, two three three four, three zero one zero, I'm 003.")
    ]


def test_a_whole_card_does_not_swallow_the_number_after_it() -> None:
    said = "card 4539 1488 0343 6467 and I'm 30 today"
    assert found(said) == [("CARD", "4539 1488 0343 6467")]
