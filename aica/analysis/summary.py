# ruff: noqa: RUF001  (Russian small talk: Cyrillic letters that look Latin are meant)
"""An extractive summary: the call's own words, picked by a fixed rule (no model, no network).

Stereo calls are read sentence by sentence (each segment split after ``.``, ``?``, ``!``,
``…``). A sentence is *substantive* when at least :data:`SUBSTANTIVE` of its words are not
small talk (greetings, thanks, farewells, "anything else", yes/no: :data:`SMALL_TALK`,
English and Russian)::

    Customer: "<what they wanted>" Agent: "<how it was handled>" Customer: "<their reply>"

- what they wanted: the customer's first substantive sentence (else their first sentence),
  with the sentence after it when that one is the customer's too and the first is short
  (under :data:`SHORT` characters);
- how it was handled: the agent's last substantive sentence after that (else their last);
- their reply: the customer's first sentence after that one, if any.

Mono calls (sides unknown): the first and the last segment, ``"<first>" … "<last>"``.

Quotes are cut at a word boundary (with "…") so the whole stays within :data:`LIMIT`
characters. An empty transcript has an empty summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aica.analysis.matching import normalize
from aica.transcript import Segment

LIMIT = 300
SUBSTANTIVE = 3
SHORT = 40

_SMALL_TALK_WORDS = """
    a all also and any anything are bye can day do does else evening fine for good goodbye
    great have hello help hey hi how i im is it its just morning much nice no nothing now
    of ok okay please so sure take care thank thanks that thats the there this to today too
    very welcome well what with wonderful yeah yes you youre your afternoon right alright
    а ага алло будьте вам вас вот все всего да дня до добрый доброго доброе благодарю
    большое вечер вечера вопросы еще есть здравствуйте и могу может нет ну отлично пожалуйста
    помочь пока понятно свидания спасибо так утро хорошего хорошо чем что это я
"""
SMALL_TALK = frozenset(_SMALL_TALK_WORDS.split())


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True, slots=True)
class _Sentence:
    speaker: str
    text: str
    substance: int


def _sentences(segments: Sequence[Segment]) -> list[_Sentence]:
    out: list[_Sentence] = []
    for segment in segments:
        for text in _SENTENCE_END.split(segment.text.strip()):
            tokens = normalize(text).split()
            if tokens:
                substance = sum(1 for t in tokens if t not in SMALL_TALK)
                out.append(_Sentence(segment.speaker, text.strip(), substance))
    return out


def summarize(segments: Sequence[Segment]) -> str:
    """The summary of a call whose segments are in time order (see the module doc)."""
    spoken = [s for s in segments if normalize(s.text)]
    if not spoken:
        return ""
    if not any(s.speaker in ("agent", "customer") for s in spoken):
        first, last = spoken[0].text.strip(), spoken[-1].text.strip()
        if len(spoken) == 1:
            return _quote(first, LIMIT)
        half = (LIMIT - 3) // 2
        return f"{_quote(first, half)} … {_quote(last, half)}"

    units = _sentences(spoken)
    customer = [i for i, u in enumerate(units) if u.speaker == "customer"]
    agent = [i for i, u in enumerate(units) if u.speaker == "agent"]
    parts: list[tuple[str, str]] = []
    after = -1
    if customer:
        asked = next((i for i in customer if units[i].substance >= SUBSTANTIVE), customer[0])
        text = units[asked].text
        following = asked + 1
        if len(text) < SHORT and following < len(units) and units[following].speaker == "customer":
            text = f"{text} {units[following].text}"
            asked = following
        parts.append(("Customer", text))
        after = asked
    answers = [i for i in agent if i > after]
    if answers:
        handled = next(
            (i for i in reversed(answers) if units[i].substance >= SUBSTANTIVE), answers[-1]
        )
        parts.append(("Agent", units[handled].text))
        reply = next((i for i in customer if i > handled), None)
        if reply is not None:
            parts.append(("Customer", units[reply].text))
    return _format(parts)


def _format(parts: list[tuple[str, str]]) -> str:
    if not parts:
        return ""
    labels = sum(len(label) + 5 for label, _ in parts)  # 'Label: ""' and a space
    budget = LIMIT - labels
    # earlier quotes may take up to their share; what they leave goes to the later ones
    out: list[str] = []
    for k, (label, text) in enumerate(parts):
        share = budget // (len(parts) - k)
        quoted = _quote(text, share)
        budget -= len(quoted) - 2
        out.append(f"{label}: {quoted}")
    return " ".join(out)


def _quote(text: str, limit: int) -> str:
    """``"text"``, its inside cut at a word boundary to at most ``limit - 2`` characters."""
    room = max(limit - 2, 1)
    text = " ".join(text.split())
    if len(text) > room:
        cut = text[: room - 1]
        if " " in cut:
            cut = cut[: cut.rindex(" ")]
        text = cut.rstrip(" ,;:.-") + "…"
    return f'"{text}"'
