# ruff: noqa: RUF002  (the Cyrillic letters in the docstring are meant)
"""Analysis profiles (scorecards): weighted categories of phrase, regex and metric criteria.

A profile is plain data, validated once when it is saved (:func:`parse_profile`) and stored as
the JSON :func:`profile_to_json` writes (camelCase keys, every default spelled out, so what is
stored reads the same after a code upgrade)::

    {"key": "general", "name": "General call quality", "description": "...",
     "categories": [
       {"key": "greeting", "name": "Greeting", "weight": 20, "criteria": [
         {"key": "greet", "description": "Greet the customer", "kind": "phrase",
          "phrases": {"en": ["thank you for calling", ...], "ru": ["спасибо за звонок", ...]},
          "speaker": "agent", "window": {"position": "first", "seconds": 15},
          "compliance": false, "forbidden": false, "weight": 2},
         {"key": "pace", "description": "Speak at a measured pace", "kind": "metric",
          "metric": "agent_wpm", "operator": "lte", "threshold": 180, "speaker": "any",
          "window": null, "compliance": false, "forbidden": false, "weight": 1}]}]}

Criterion kinds:

- ``phrase``: any of ``phrases`` is heard (see :mod:`aica.analysis.matching` for the
  normalisation and the fuzzy rule). ``phrases`` is a list (any language) or a dict of
  language code to list; the analyzer picks the call's language, else the whole union.
- ``regex``: ``pattern`` matches a segment's text (case-insensitive, ``ё`` read as ``е``).
  Patterns are at most 300 characters of Python ``re`` syntax, matched in linear time
  (:mod:`aica.analysis.patterns`): backreferences and lookaround are refused.
- ``metric``: ``metric`` compared with ``threshold`` by ``operator`` (``lt lte gt gte``); the
  criterion passes when ``value <operator> threshold``. Metrics are those of
  :class:`~aica.analysis.metrics.CallMetrics`: ``talk_ratio`` and ``silence_ratio`` (0..1),
  ``longest_silence``, ``overtalk`` and ``duration`` (seconds), ``agent_wpm`` (words a
  minute). A metric names its own side, so its ``speaker`` is always ``any``.

Every criterion may carry a ``window`` (``first``/``last`` N seconds of the call; a metric is
then computed over that stretch only), ``compliance`` (a failure fails the call's
compliance status), ``weight`` (> 0, its share within its category). ``forbidden`` phrase and
regex criteria pass when nothing matches (threats, insults).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from aica.analysis import _builtin
from aica.analysis.matching import normalize
from aica.analysis.patterns import PatternError, compile_pattern
from aica.errors import BadInput

Kind = Literal["phrase", "regex", "metric"]
SpeakerFilter = Literal["agent", "customer", "any"]
Position = Literal["first", "last"]
Operator = Literal["lt", "lte", "gt", "gte"]
MetricName = Literal[
    "talk_ratio", "silence_ratio", "longest_silence", "overtalk", "agent_wpm", "duration"
]

KINDS: tuple[Kind, ...] = get_args(Kind)
SPEAKERS: tuple[SpeakerFilter, ...] = get_args(SpeakerFilter)
POSITIONS: tuple[Position, ...] = get_args(Position)
OPERATORS: tuple[Operator, ...] = get_args(Operator)
METRICS: tuple[MetricName, ...] = get_args(MetricName)
RATIO_METRICS: frozenset[str] = frozenset({"talk_ratio", "silence_ratio"})

ANY_LANGUAGE = "*"
"""The ``phrases`` key under which a plain list (a language-neutral phrase set) is kept."""

MAX_CATEGORIES = 20
MAX_CRITERIA = 50
MAX_PHRASES = 200
MAX_TOTAL_PHRASES = 5000
"""Phrases in a whole profile, every language counted (bounds the work of one analysis)."""
MAX_PHRASE_LENGTH = 200
MAX_LANGUAGES = 20
MAX_PATTERN_LENGTH = 300
MAX_TEXT = 500
MAX_WEIGHT = 1000.0
MAX_SECONDS = 24 * 3600.0

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_CAMEL = re.compile(r"[a-z][A-Za-z0-9]{0,63}")
_PROFILE_KEY = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True, slots=True)
class Window:
    position: Position
    seconds: float


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    description: str
    kind: Kind
    phrases: Mapping[str, tuple[str, ...]] | None = None
    """Language code (or :data:`ANY_LANGUAGE`) to phrases; phrase criteria only."""
    pattern: str | None = None
    metric: MetricName | None = None
    operator: Operator | None = None
    threshold: float | None = None
    speaker: SpeakerFilter = "agent"
    window: Window | None = None
    compliance: bool = False
    forbidden: bool = False
    weight: float = 1.0

    def phrases_for(self, language: str | None) -> tuple[str, ...]:
        """The phrases to listen for in a call in ``language``: that language's set, else the
        language-neutral list, else the union of every set (in language order)."""
        sets = self.phrases or {}
        if language and language in sets:
            return sets[language]
        if ANY_LANGUAGE in sets:
            return sets[ANY_LANGUAGE]
        seen: dict[str, None] = {}
        for code in sorted(sets):
            seen.update(dict.fromkeys(sets[code]))
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    name: str
    weight: float
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    key: str
    name: str
    description: str
    categories: tuple[Category, ...]

    @property
    def has_compliance(self) -> bool:
        return any(c.compliance for cat in self.categories for c in cat.criteria)


# --------------------------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------------------------


def _fail(path: str, message: str) -> BadInput:
    where = path or "profile"
    return BadInput(f"{where}: {message}", field=where)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Reader:
    """Reads one JSON object at ``path``, remembering which keys were used."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise _fail(path, f"must be an object, not {_type_name(data)}")
        self.data: Mapping[str, Any] = data
        self.path = path
        for key in data:
            if not isinstance(key, str):
                raise _fail(path, f"keys must be strings, not {_type_name(key)}")

    def at(self, key: str) -> str:
        return _join(self.path, key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(
        self, key: str, *, required: bool = True, default: str = "", limit: int = MAX_TEXT
    ) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                raise _fail(self.at(key), "is required")
            return default
        if not isinstance(value, str):
            raise _fail(self.at(key), f"must be a string, not {_type_name(value)}")
        value = value.strip()
        if required and not value:
            raise _fail(self.at(key), "must not be empty")
        if len(value) > limit:
            raise _fail(self.at(key), f"must be at most {limit} characters")
        return value

    def identifier(self, key: str, pattern: re.Pattern[str], rule: str) -> str:
        value = self.text(key, limit=64)
        if not pattern.fullmatch(value):
            raise _fail(self.at(key), f"{value!r} is not {rule}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise _fail(self.at(key), f"is required (one of {', '.join(choices)})")
            return default
        if value not in choices:
            raise _fail(self.at(key), f"must be one of {', '.join(choices)}, not {value!r}")
        return cast(str, value)

    def number(
        self,
        key: str,
        *,
        default: float | None = None,
        positive: bool = False,
        maximum: float = math.inf,
    ) -> float:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise _fail(self.at(key), "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(self.at(key), f"must be a number, not {_type_name(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise _fail(self.at(key), "must be a finite number")
        if positive and number <= 0:
            raise _fail(self.at(key), f"must be greater than 0, not {_num(number)}")
        if not positive and number < 0:
            raise _fail(self.at(key), f"must not be negative, not {_num(number)}")
        if number > maximum:
            raise _fail(self.at(key), f"must be at most {_num(maximum)}, not {_num(number)}")
        return number

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise _fail(self.at(key), f"must be true or false, not {_type_name(value)}")
        return value

    def items(self, key: str, minimum: int, maximum: int, noun: tuple[str, str]) -> list[Any]:
        """A list of ``minimum``..``maximum`` items; ``noun`` is (singular, plural)."""
        value = self.data.get(key)

        def count(n: int) -> str:
            return f"{n} {noun[0] if n == 1 else noun[1]}"

        if value is None:
            raise _fail(self.at(key), f"is required (at least {count(minimum)})")
        if not isinstance(value, list | tuple):
            raise _fail(self.at(key), f"must be a list, not {_type_name(value)}")
        if len(value) < minimum:
            raise _fail(self.at(key), f"must hold at least {count(minimum)}")
        if len(value) > maximum:
            raise _fail(self.at(key), f"must hold at most {count(maximum)}, not {len(value)}")
        return list(value)

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                raise _fail(self.at(key), f"unknown field (expected {', '.join(allowed)})")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _num(value: float) -> str:
    return f"{value:g}"


_PROFILE_FIELDS = ("key", "name", "description", "categories")
_CATEGORY_FIELDS = ("key", "name", "weight", "criteria")
_CRITERION_FIELDS = (
    "key",
    "description",
    "kind",
    "phrases",
    "pattern",
    "metric",
    "operator",
    "threshold",
    "speaker",
    "window",
    "compliance",
    "forbidden",
    "weight",
)
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "phrase": ("phrases",),
    "regex": ("pattern",),
    "metric": ("metric", "operator", "threshold"),
}


def parse_profile(data: Mapping[str, Any]) -> Profile:
    """Validate a profile's JSON (as :func:`profile_to_json` writes it; defaults may be left
    out) and build it.

    Raises :class:`~aica.errors.BadInput` naming the first offending place, e.g.
    ``categories[1].criteria[0].pattern: invalid regex: ...`` with
    ``field="categories[1].criteria[0].pattern"``.
    """
    root = _Reader(data, "")
    root.only(_PROFILE_FIELDS)
    key = root.identifier("key", _PROFILE_KEY, "a profile key (lowercase letters, digits, - and _)")
    name = root.text("name", limit=200)
    description = root.text("description", required=False, limit=2000)
    raw_categories = root.items("categories", 1, MAX_CATEGORIES, ("category", "categories"))
    categories: list[Category] = []
    seen_categories: dict[str, str] = {}
    seen_criteria: dict[str, str] = {}
    phrases = [0]
    for i, raw in enumerate(raw_categories):
        category = _parse_category(raw, _join("categories", i), seen_criteria, phrases)
        if category.key in seen_categories:
            raise _fail(
                _join(_join("categories", i), "key"),
                f"duplicate category key {category.key!r} (also {seen_categories[category.key]})",
            )
        seen_categories[category.key] = _join("categories", i)
        categories.append(category)
    return Profile(key=key, name=name, description=description, categories=tuple(categories))


def _parse_category(
    raw: object, path: str, seen_criteria: dict[str, str], phrases: list[int]
) -> Category:
    r = _Reader(raw, path)
    r.only(_CATEGORY_FIELDS)
    key = r.identifier("key", _CAMEL, "a camelCase identifier (e.g. problemResolution)")
    name = r.text("name", limit=200)
    weight = r.number("weight", default=1.0, positive=True, maximum=MAX_WEIGHT)
    criteria: list[Criterion] = []
    for j, item in enumerate(r.items("criteria", 1, MAX_CRITERIA, ("criterion", "criteria"))):
        at = _join(r.at("criteria"), j)
        criterion = _parse_criterion(item, at)
        if criterion.key in seen_criteria:
            raise _fail(
                _join(at, "key"),
                f"duplicate criterion key {criterion.key!r} (also {seen_criteria[criterion.key]})",
            )
        seen_criteria[criterion.key] = at
        phrases[0] += sum(len(v) for v in (criterion.phrases or {}).values())
        if phrases[0] > MAX_TOTAL_PHRASES:
            raise _fail(
                _join(at, "phrases"),
                f"a profile may hold at most {MAX_TOTAL_PHRASES} phrases in all languages",
            )
        criteria.append(criterion)
    return Category(key=key, name=name, weight=weight, criteria=tuple(criteria))


def _parse_criterion(raw: object, path: str) -> Criterion:
    r = _Reader(raw, path)
    r.only(_CRITERION_FIELDS)
    key = r.identifier("key", _IDENTIFIER, "an identifier (letters, digits and _)")
    description = r.text("description", limit=300)
    kind = cast(Kind, r.choice("kind", KINDS))
    for other, fields in _KIND_FIELDS.items():
        if other == kind:
            continue
        for name in fields:
            if r.has(name):
                raise _fail(r.at(name), f"only applies to {other} criteria, not {kind}")
    window = _parse_window(r.data["window"], r.at("window")) if r.has("window") else None
    compliance = r.flag("compliance")
    forbidden = r.flag("forbidden")
    weight = r.number("weight", default=1.0, positive=True, maximum=MAX_WEIGHT)

    if kind == "metric":
        if forbidden:
            raise _fail(r.at("forbidden"), "does not apply to metric criteria (use the operator)")
        speaker = r.choice("speaker", SPEAKERS, default="any")
        if speaker != "any":
            raise _fail(
                r.at("speaker"),
                "metric criteria measure the whole call (the metric names its side); "
                "leave speaker out or set it to any",
            )
        metric = cast(MetricName, r.choice("metric", METRICS))
        operator = cast(Operator, r.choice("operator", OPERATORS))
        threshold = r.number("threshold", maximum=1.0 if metric in RATIO_METRICS else MAX_SECONDS)
        return Criterion(
            key=key,
            description=description,
            kind=kind,
            metric=metric,
            operator=operator,
            threshold=threshold,
            speaker="any",
            window=window,
            compliance=compliance,
            weight=weight,
        )

    speaker = cast(SpeakerFilter, r.choice("speaker", SPEAKERS, default="agent"))
    common: dict[str, Any] = {
        "key": key,
        "description": description,
        "kind": kind,
        "speaker": speaker,
        "window": window,
        "compliance": compliance,
        "forbidden": forbidden,
        "weight": weight,
    }
    if kind == "phrase":
        if not r.has("phrases"):
            raise _fail(r.at("phrases"), "is required for phrase criteria (at least 1 phrase)")
        return Criterion(**common, phrases=_parse_phrases(r.data["phrases"], r.at("phrases")))
    if not r.has("pattern"):
        raise _fail(r.at("pattern"), "is required for regex criteria")
    pattern = r.text("pattern", limit=MAX_PATTERN_LENGTH)
    _check_pattern(pattern, r.at("pattern"))
    return Criterion(**common, pattern=pattern)


def _parse_window(raw: object, path: str) -> Window:
    r = _Reader(raw, path)
    r.only(("position", "seconds"))
    position = cast(Position, r.choice("position", POSITIONS))
    seconds = r.number("seconds", positive=True, maximum=MAX_SECONDS)
    return Window(position=position, seconds=seconds)


def _parse_phrases(raw: object, path: str) -> dict[str, tuple[str, ...]]:
    if isinstance(raw, list | tuple):
        return {ANY_LANGUAGE: _phrase_list(raw, path)}
    if isinstance(raw, Mapping):
        if not raw:
            raise _fail(path, "must hold at least 1 language")
        if len(raw) > MAX_LANGUAGES:
            raise _fail(path, f"must hold at most {MAX_LANGUAGES} languages")
        out: dict[str, tuple[str, ...]] = {}
        for code in sorted(raw, key=str):
            at = _join(path, str(code))
            if not isinstance(code, str) or not _LANGUAGE.fullmatch(code):
                raise _fail(at, "a language code is 2 or 3 lowercase letters (en, ru, ...)")
            value = raw[code]
            if not isinstance(value, list | tuple):
                raise _fail(at, f"must be a list of phrases, not {_type_name(value)}")
            out[code] = _phrase_list(value, at)
        return out
    raise _fail(
        path, f"must be a list of phrases or an object of language -> list, not {_type_name(raw)}"
    )


def _phrase_list(raw: list[Any] | tuple[Any, ...], path: str) -> tuple[str, ...]:
    if not raw:
        raise _fail(path, "must hold at least 1 phrase")
    if len(raw) > MAX_PHRASES:
        raise _fail(path, f"must hold at most {MAX_PHRASES} phrases, not {len(raw)}")
    phrases: list[str] = []
    for k, phrase in enumerate(raw):
        at = _join(path, k)
        if not isinstance(phrase, str):
            raise _fail(at, f"must be a string, not {_type_name(phrase)}")
        phrase = " ".join(phrase.split())
        if len(phrase) > MAX_PHRASE_LENGTH:
            raise _fail(at, f"must be at most {MAX_PHRASE_LENGTH} characters")
        if not normalize(phrase):
            raise _fail(at, f"{phrase!r} has no words to listen for")
        if phrase not in phrases:
            phrases.append(phrase)
    return tuple(phrases)


def _check_pattern(pattern: str, path: str) -> None:
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        raise _fail(path, str(exc)) from None


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def profile_to_json(profile: Profile) -> dict[str, Any]:
    """The profile as stored and served: camelCase keys, every field present; round-trips
    through :func:`parse_profile`."""
    return {
        "key": profile.key,
        "name": profile.name,
        "description": profile.description,
        "categories": [
            {
                "key": category.key,
                "name": category.name,
                "weight": _plain(category.weight),
                "criteria": [_criterion_to_json(c) for c in category.criteria],
            }
            for category in profile.categories
        ],
    }


def _criterion_to_json(c: Criterion) -> dict[str, Any]:
    out: dict[str, Any] = {"key": c.key, "description": c.description, "kind": c.kind}
    if c.kind == "phrase":
        sets = c.phrases or {}
        if set(sets) == {ANY_LANGUAGE}:
            out["phrases"] = list(sets[ANY_LANGUAGE])
        else:
            out["phrases"] = {code: list(items) for code, items in sets.items()}
    elif c.kind == "regex":
        out["pattern"] = c.pattern
    else:
        out["metric"] = c.metric
        out["operator"] = c.operator
        out["threshold"] = _plain(c.threshold or 0.0)
    out["speaker"] = c.speaker
    out["window"] = (
        {"position": c.window.position, "seconds": _plain(c.window.seconds)} if c.window else None
    )
    out["compliance"] = c.compliance
    out["forbidden"] = c.forbidden
    out["weight"] = _plain(c.weight)
    return out


def _plain(value: float) -> int | float:
    """Whole numbers as ints (``20`` rather than ``20.0`` in the JSON)."""
    return int(value) if float(value).is_integer() else value


BUILTIN: dict[str, Profile] = {data["key"]: parse_profile(data) for data in _builtin.PROFILES}
"""The shipped profiles: ``general`` (greeting, problemResolution, professionalism, closing),
``sales`` and ``collections``, each with English and Russian phrase sets."""
