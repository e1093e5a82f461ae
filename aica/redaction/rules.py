# ruff: noqa: RUF001  (Cyrillic letters and quote look-alikes are meant)
"""What announces or makes up personal data in each language: keywords, spoken symbols, ids.

A language is one ``LanguageRules`` in ``LANGUAGES``; adding one (or a national id to one) is
an entry here. Keywords are word prefixes ("карт" covers карта, карты, картой). Keywords and
spoken symbols of every language apply to every call (a Russian call says "email" too); the
national ids of the call's language only, since their shapes collide across countries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from stdnum.ru import inn
from stdnum.us import ssn


@dataclass(frozen=True)
class NationalId:
    """An identity number: announced by a ``context`` word, ``lengths`` digits long, and
    passing ``valid`` (its checksum, where it has one)."""

    name: str
    context: tuple[str, ...]
    lengths: tuple[int, ...]
    valid: Callable[[str], bool] = lambda digits: True


@dataclass(frozen=True)
class LanguageRules:
    phone_region: str | None
    """Where a number without a country code is dialled (phonenumbers' region)."""
    card: tuple[str, ...] = ()
    phone: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    birth: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    date_fillers: frozenset[str] = frozenset()
    at: frozenset[str] = frozenset()
    dot: frozenset[str] = frozenset()
    joiners: frozenset[str] = frozenset()
    """Words read between digits ("and", "dash") that do not end the number."""
    plus: frozenset[str] = frozenset()
    ids: tuple[NationalId, ...] = field(default_factory=tuple)


def snils_valid(digits: str) -> bool:
    """SNILS: the last two digits are the weighted sum of the first nine mod 101 (100 -> 00)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9])) % 101
    return total % 100 == int(digits[9:])


LANGUAGES: dict[str, LanguageRules] = {
    "en": LanguageRules(
        phone_region="US",
        card=("card", "visa", "mastercard", "amex", "credit", "debit"),
        phone=("phone", "telephone", "mobile", "cell", "call", "reach"),
        account=("account", "acct", "routing", "sort"),
        email=("email", "e-mail", "mail", "address"),
        birth=("born", "birth", "birthday", "dob"),
        months=(
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ),
        date_fillers=frozenset({"of", "the", "on", "in", "st", "nd", "rd", "th"}),
        at=frozenset({"at", "@"}),
        dot=frozenset({"dot", "."}),
        joiners=frozenset({"and", "dash", "hyphen", "-"}),
        plus=frozenset({"plus", "+"}),
        ids=(
            NationalId("ssn", ("social", "ssn", "security"), (9,), ssn.is_valid),
        ),
    ),
    "ru": LanguageRules(
        phone_region="RU",
        card=("карт", "виза", "visa", "мастеркард", "мир"),
        phone=("телефон", "мобильн", "позвон", "звонит"),
        account=("счет", "счёт", "лицев", "расчетн", "расчётн"),
        email=("почт", "имейл", "емейл", "мейл", "адрес"),
        birth=("рожд", "родил"),
        months=(
            "январ", "феврал", "март", "апрел", "мая", "май", "июн", "июл", "август", "сентябр",
            "октябр", "ноябр", "декабр",
        ),
        date_fillers=frozenset({"года", "год", "г"}),
        at=frozenset({"собака", "собачка"}),
        dot=frozenset({"точка"}),
        joiners=frozenset({"и", "тире", "дефис", "номер"}),
        plus=frozenset({"плюс"}),
        ids=(
            NationalId("passport", ("паспорт", "серия", "серии"), (10,)),
            NationalId("snils", ("снилс",), (11,), snils_valid),
            NationalId("inn", ("инн",), (10, 12), inn.is_valid),
        ),
    ),
}  # fmt: skip


def national_ids(language: str) -> tuple[NationalId, ...]:
    rules = LANGUAGES.get(language)
    return rules.ids if rules else ()


def phone_region(language: str) -> str | None:
    rules = LANGUAGES.get(language)
    return rules.phone_region if rules else None


def keywords(name: str) -> tuple[str, ...]:
    """One keyword list (``card``, ``phone``, ``account``, ``email``, ``birth``, ``months``)
    of every language."""
    return tuple(word for rules in LANGUAGES.values() for word in getattr(rules, name))


def words(name: str) -> frozenset[str]:
    """One spoken-symbol set (``at``, ``dot``, ``joiners``, ``plus``, ``date_fillers``) of
    every language."""
    return frozenset(word for rules in LANGUAGES.values() for word in getattr(rules, name))
