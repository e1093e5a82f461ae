# ruff: noqa: RUF001, RUF002  (Cyrillic letters and quote look-alikes are meant)
"""Find personal data in one speaker's words, as spans of word positions.

Works on words, not characters, because that is what can be hidden while keeping timings:
a card read as "four five three nine, one four eight eight ..." is sixteen words, an email
spelled "john dot smith at gmail dot com" seven. Numbers are read into digits first
(``numerals``), then checked the way each kind is checked in the world: Luhn for cards,
libphonenumber for phones, mod-97 for IBANs, checksums for the ids that have one. What has
no check of its own (an account, a date of birth, a passport) counts only when a keyword
announces it a few words before, so that an order number or a price stays in the transcript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from stdnum import iban, luhn

from aica.redaction import rules
from aica.redaction.numerals import Group, digits_of, is_number, number_word, read_numbers

CARD, PHONE, EMAIL, IBAN, ACCOUNT, DOB, ID = (
    "CARD", "PHONE", "EMAIL", "IBAN", "ACCOUNT", "DOB", "ID",
)  # fmt: skip

CONTEXT_WORDS = 8
"""How many words before a number a keyword may be to announce it."""
_EDGES = "\"'()[]«»“”‘’.,!?;:…-"
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.UNICODE)
_LABEL = re.compile(r"^[^\W_][\w-]*$", re.UNICODE)
_DOMAIN = re.compile(r"^[^\W_][\w-]*(?:\.[\w-]+)+$", re.UNICODE)
_TLD = re.compile(r"^[^\W\d_]{2,6}$", re.UNICODE)
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}$")


@dataclass(frozen=True, slots=True)
class Found:
    kind: str
    first: int
    last: int
    """Word positions, both included."""


@dataclass
class _Run:
    """Consecutive number words (and the joiners between them)."""

    first: int
    last: int
    groups: list[Group]
    """Positions relative to ``first``."""
    plus: bool

    @property
    def digits(self) -> str:
        return "".join(g.digits for g in self.groups)


def normalize(word: str) -> str:
    """Lower case without the punctuation the recogniser put around the word."""
    stripped = word.lower().strip(_EDGES)
    if word.startswith("+") and stripped[:1].isdigit():
        stripped = "+" + stripped
    return stripped.replace("ё", "е")


def find(words: Sequence[str], language: str) -> list[Found]:
    """The personal data in one speaker's ``words`` (in the order spoken), without overlaps:
    the most certain kind wins a word two kinds claim."""
    norms = [normalize(w) for w in words]
    runs = _runs(norms)
    candidates = [
        *_cards(norms, runs),
        *_emails(norms),
        *_announced_emails(words, norms),
        *_ibans(norms),
        *_ids(norms, runs, language),
        *_phones(norms, runs, language),
        *_accounts(norms, runs),
        *_dates_of_birth(norms),
    ]
    taken: set[int] = set()
    found: list[Found] = []
    for candidate in candidates:
        span = set(range(candidate.first, candidate.last + 1))
        if not span & taken:
            taken |= span
            found.append(candidate)
    return sorted(found, key=lambda f: f.first)


def _runs(norms: list[str]) -> list[_Run]:
    joiners, plus = rules.words("joiners"), rules.words("plus")
    runs: list[_Run] = []
    i = 0
    while i < len(norms):
        if not _numeric(norms, i):
            i += 1
            continue
        start = i
        while i + 1 < len(norms) and (
            _numeric(norms, i + 1)
            or (norms[i + 1] in joiners and i + 2 < len(norms) and _numeric(norms, i + 2))
        ):
            i += 1
        signed = start > 0 and norms[start - 1] in plus
        first = start - 1 if signed else start
        groups = read_numbers(norms[start : i + 1])
        offset = start - first
        for group in groups:
            group.words = [p + offset for p in group.words]
        runs.append(_Run(first, i, groups, signed or norms[start].startswith("+")))
        i += 1
    return runs


def _numeric(norms: list[str], i: int) -> bool:
    """A number word; "oh" and "o" only next to another number ("four oh four")."""
    word = norms[i]
    if word in ("oh", "o"):
        return any(
            0 <= j < len(norms) and norms[j] not in ("oh", "o") and is_number(norms[j])
            for j in (i - 1, i + 1)
        )
    return bool(word) and is_number(word)


def _announced(norms: list[str], first: int, keywords: tuple[str, ...]) -> bool:
    before = norms[max(0, first - CONTEXT_WORDS) : first]
    return any(word.startswith(keywords) for word in before)


def _windows(run: _Run, low: int, high: int) -> list[_Run]:
    """The run itself, else its longest head or tail of ``low``..``high`` digits (a card
    followed by its expiry date), cut between numbers."""
    if low <= len(run.digits) <= high:
        return [run]
    cuts = []
    for n in range(len(run.groups) - 1, 0, -1):
        for groups in (run.groups[:n], run.groups[-n:]):
            if low <= sum(len(g.digits) for g in groups) <= high:
                first, last = groups[0].words[0], groups[-1].words[-1]
                cuts.append(_Run(run.first + first, run.first + last, groups, run.plus))
    return cuts


def _cards(norms: list[str], runs: list[_Run]) -> list[Found]:
    """Luhn-valid 13-19 digits; after a card keyword also an invalid 12-19 (one misheard digit
    must not leave the other fifteen in the clear)."""
    found = []
    for k, run in enumerate(runs):
        announced = _announced(norms, run.first, rules.keywords("card"))
        for window in _windows(run, 12 if announced else 13, 19):
            if announced or luhn.is_valid(window.digits):
                found.append(Found(CARD, window.first, _card_end(window, runs[k + 1 :])))
                break
    return found


def _card_end(card: _Run, after: list[_Run]) -> int:
    """Where a card heard short of 16 digits ends: a number one misheard word later is its
    tail ("... three zero one zero, I'm 003" for "... nine nine zero three")."""
    if len(card.digits) < 16 and after:
        tail = after[0]
        if tail.first - card.last <= 2 and len(card.digits) + len(tail.digits) <= 19:
            return tail.last
    return card.last


def _phones(norms: list[str], runs: list[_Run], language: str) -> list[Found]:
    """A whole run that libphonenumber calls a valid number (dialled from the call's country
    unless it has a +); after a phone keyword any 7-15 digits."""
    region = rules.phone_region(language)
    found = []
    for run in runs:
        digits = run.digits
        if not 7 <= len(digits) <= 15:
            continue
        if _announced(norms, run.first, rules.keywords("phone")) or _dialable(
            digits, run.plus, region
        ):
            found.append(Found(PHONE, run.first, run.last))
    return found


def _dialable(digits: str, plus: bool, region: str | None) -> bool:
    if len(digits) < 10:
        return False
    attempts: list[tuple[str, str | None]] = []
    if plus or len(digits) > 11:
        attempts.append(("+" + digits, None))
    attempts += [] if plus else [(digits, region), ("+" + digits, None)]
    for text, where in attempts:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(text, where)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _accounts(norms: list[str], runs: list[_Run]) -> list[Found]:
    return [
        Found(ACCOUNT, run.first, run.last)
        for run in runs
        if 6 <= len(run.digits) <= 34 and _announced(norms, run.first, rules.keywords("account"))
    ]


def _ids(norms: list[str], runs: list[_Run], language: str) -> list[Found]:
    found = []
    for run in runs:
        for rule in rules.national_ids(language):
            if (
                len(run.digits) in rule.lengths
                and rule.valid(run.digits)
                and _announced(norms, run.first, rule.context)
            ):
                found.append(Found(ID, run.first, run.last))
                break
    return found


def _ibans(norms: list[str]) -> list[Found]:
    """Country letters and check digits, then letters and digits word by word (mod-97)."""
    found = []
    for i, word in enumerate(norms):
        if not _IBAN_START.match(word) and not (
            len(word) == 2 and word.isalpha() and i + 1 < len(norms) and _digits_first(norms[i + 1])
        ):
            continue
        text = ""
        best = None
        for j in range(i, min(len(norms), i + 34)):
            part = _alnum(norms[j])
            if part is None:
                break
            text += part
            if len(text) > 34:
                break
            if len(text) >= 15 and iban.is_valid(text):
                best = j
        if best is not None:
            found.append(Found(IBAN, i, best))
    return found


_IBAN_START = re.compile(r"^[a-z]{2}\d{2}")


def _digits_first(word: str) -> bool:
    return (_alnum(word) or "")[:2].isdigit()


def _alnum(word: str) -> str | None:
    if (digits := digits_of(word)) is not None:
        return digits
    if (value := number_word(word)) is not None and value < 10:
        return str(value)
    return word.upper() if re.fullmatch(r"[a-z0-9]+", word) else None


def _emails(norms: list[str]) -> list[Found]:
    """Written ("john@example.com") or spoken ("john dot smith at gmail dot com",
    "иван собака яндекс точка ру")."""
    at, dot = rules.words("at"), rules.words("dot")
    found = [Found(EMAIL, i, i) for i, word in enumerate(norms) if _EMAIL.search(word)]
    for i, word in enumerate(norms):
        if word not in at:
            continue
        last = _domain_end(norms, i + 1, dot)
        first = _local_start(norms, i - 1, dot)
        if last is not None and first is not None:
            found.append(Found(EMAIL, first, last))
    return found


def _announced_emails(words: Sequence[str], norms: list[str]) -> list[Found]:
    """After an email keyword, a domain and the few words before it ("john .mit that
    gmail.com", "john.smith.gmail.com"): the recogniser misheard "at", yet it is an address."""
    keywords = rules.keywords("email")
    found: list[Found] = []
    i = 0
    while i < len(words):
        last = i
        while last + 1 < len(words) and (
            words[last + 1].startswith(".")
            or (words[last].rstrip(",;:!?").endswith(".") and words[last + 1][:1].islower())
        ):
            last += 1
        chain = "".join(w.strip(",;:!?") for w in words[i : last + 1]).strip(".").lower()
        labels = chain.split(".")
        if len(labels) >= 2 and all(_LABEL.match(x) for x in labels) and _TLD.match(labels[-1]):
            first = i
            while first > max(0, i - 4) and not (
                norms[first - 1].startswith(keywords) or norms[first - 1] in _LEADS
            ):
                first -= 1
            if found and found[-1].last >= first:  # "john.mit" then "that gmail.com"
                found[-1] = Found(EMAIL, min(first, found[-1].first), last)
            elif _announced(norms, first, keywords):
                found.append(Found(EMAIL, first, last))
        i = last + 1
    return found


_NOT_NAMES = frozenset(
    {"it", "me", "us", "you", "him", "her", "them", "this", "that", "look", "here", "there",
     "это", "меня", "нас", "вас", "него", "неё", "нее", "них", "тут", "там"}
)  # fmt: skip
"""Words before "at" / "собака" that are the sentence, not a mailbox ("look at it")."""
_LEADS = frozenset({"is", "was", "it's", "my", "me", "это", "мой", "моя", "вот"})
"""Words that end the phrase announcing an address ("my email address is ...")."""


def _domain_end(norms: list[str], i: int, dot: frozenset[str]) -> int | None:
    """The last word of a domain starting at ``i`` ("gmail.com", "gmail dot com")."""
    if i >= len(norms):
        return None
    if _DOMAIN.match(norms[i]) and _TLD.match(norms[i].rsplit(".", 1)[1]):
        return i
    end = None
    while i < len(norms) and _LABEL.match(norms[i]):
        if i + 2 < len(norms) and norms[i + 1] in dot and _LABEL.match(norms[i + 2]):
            if _TLD.match(norms[i + 2]):
                end = i + 2
            i += 2
        else:
            break
    return end


def _local_start(norms: list[str], i: int, dot: frozenset[str]) -> int | None:
    """The first word of the name before "at": one word, joined by dots ("john dot smith"),
    or spelled letter by letter ("j o h n")."""
    if i < 0 or not _LABEL.match(norms[i].replace(".", "")) or norms[i] in _NOT_NAMES:
        return None
    first = i
    while first - 2 >= 0 and norms[first - 1] in dot and _LABEL.match(norms[first - 2]):
        first -= 2
    while first - 1 >= 0 and len(norms[first]) == 1 and len(norms[first - 1]) == 1:
        first -= 1
    return first


def _dates_of_birth(norms: list[str]) -> list[Found]:
    """A date a few words after "born" / "date of birth" / "дата рождения"."""
    birth, months = rules.keywords("birth"), rules.keywords("months")
    fillers = rules.words("date_fillers")
    found = []
    for k, word in enumerate(norms):
        if not word.startswith(birth):
            continue
        parts: list[int] = []
        for j in range(k + 1, min(len(norms), k + 12)):
            token = norms[j]
            if _numeric(norms, j) or token.startswith(months) or _DATE.match(token):
                parts.append(j)
            elif parts and token not in fillers:
                break
        if parts and _is_date([norms[p] for p in parts], months):
            found.append(Found(DOB, parts[0], parts[-1]))
    return found


def _is_date(words: list[str], months: tuple[str, ...]) -> bool:
    if any(_DATE.match(w) for w in words):
        return True
    numbers = [w for w in words if not w.startswith(months) or is_number(w)]
    digits = "".join(g.digits for g in read_numbers(numbers))
    has_month = len(numbers) < len(words)
    return (has_month and bool(digits)) or len(digits) >= 6
