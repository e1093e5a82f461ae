# ruff: noqa: RUF001, RUF002  (Cyrillic letters and apostrophe look-alikes are meant)
"""Finding phrases and patterns in a transcript, tolerant of small speech-recognition errors.

Normalisation (:func:`normalize`), applied to phrases and transcript alike: Unicode NFKC,
lowercase, ``ё`` -> ``е``, English contractions spelled out (``I've`` -> ``i have``,
``don't`` -> ``do not``, ``can't`` -> ``can not``, ``it's`` -> ``it is``, ``let's`` -> ``let
us``; another ``'s`` just loses its apostrophe: ``name's`` -> ``names``), other apostrophes
dropped, every other run of non-letters/digits a single space.

Inflection (:meth:`Index.inflected`): a run of ``n`` words matches a phrase of ``n`` words
when their dictionary forms (:mod:`aica.analysis.lemmas`) are the phrase's: "тупая" is
"тупой", "сами виноваты" is "сам виноват", "refunds" is "refund"; "вас посадили" is not "вас
посадят" (a verb keeps its tense). The score is the similarity of the words as heard, so the
analyzer shows what was said next to the phrase.

The fuzzy rule (:meth:`Index.find`), for what the recogniser misheard, glued or split: a
phrase of ``n`` words is compared with every run of ``n - 1``, ``n`` and ``n + 1``
consecutive words inside one segment (so a word the recogniser dropped, added, glued or split
still lines up). A run matches when

1. its similarity to the phrase is at least :data:`FUZZY_THRESHOLD` (rapidfuzz ``fuzz.ratio``,
   the normalised Indel similarity of the two strings, 0-100),
2. every short word of the phrase (:data:`SHORT_WORD` letters or fewer: ``a``, ``my``,
   ``not``, ``за``) occurs in the run exactly, alone or glued to its neighbour in the phrase
   ("выполучите" for "вы получите", 95.2): long words may be misheard a little, the short
   ones that flip a meaning may not ("not my problem" is not "not a problem", "слушаю нас" is
   not "слушаю вас", and so neither is "слушаю пас"), and
3. the run holds no negation (:data:`NEGATIONS`) the phrase lacks ("you will not receive" is
   not "you will receive", 88.9; "деньги не вернутся" is not "деньги вернутся", 90.9).

A phrase shorter than :data:`EXACT_BELOW` characters ("hello", "shut up", "идиот") is not
compared fuzzily: it matches by its lemmas, or spelled exactly with the spaces between its
words ignored ("good bye" is "goodbye"). So "thank you for coling" matches "thank you for
calling" (92.7) while "thank you for holding" (85.7) and "how can we help" (the short "i" is
missing) do not.

Regex criteria search each segment's text (whitespace collapsed, ``ё`` read as ``е``,
case-insensitive) in linear time (:mod:`aica.analysis.patterns`).

Times: a segment's words carry their own timestamps; a segment without words (a transcript
from elsewhere) spreads its words, or its characters for a regex, evenly over its span.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from aica.analysis.lemmas import lemma
from aica.analysis.patterns import compile_pattern
from aica.transcript import Segment

FUZZY_THRESHOLD = 88.0
SHORT_WORD = 3
EXACT_BELOW = 8
NEGATIONS = frozenset(["not", "no", "never", "не", "нет", "ни", "никогда"])

_APOSTROPHES = re.compile(r"['’ʼ`´‘]")
_NON_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")


_CONTRACTION = re.compile(r"\b(\w+?)(n't|'ve|'re|'ll|'m|'d|'s)\b")
_IS = frozenset(["it", "that", "what", "there", "here", "he", "she", "who", "where", "how"])
_IRREGULAR = {"ca": "can", "wo": "will", "sha": "shall"}  # can't, won't, shan't
_SUFFIX = {"n't": "not", "'ve": "have", "'re": "are", "'ll": "will", "'m": "am", "'d": "would"}


def _expand(match: re.Match[str]) -> str:
    head, tail = match.group(1), match.group(2)
    if tail == "'s":
        if head == "let":
            return "let us"
        return f"{head} is" if head in _IS else head + "s"
    if tail == "n't":
        head = _IRREGULAR.get(head, head)
    return f"{head} {_SUFFIX[tail]}"


def normalize(text: str) -> str:
    """Lowercase words separated by single spaces (see the module doc)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    if "'" in text or "’" in text:
        text = _CONTRACTION.sub(_expand, text.replace("’", "'"))
    text = _APOSTROPHES.sub("", text)
    return _NON_WORD.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)
def word_tokens(word: str) -> tuple[str, ...]:
    """The normalised tokens of one transcript word (cached: calls repeat their words)."""
    return tuple(normalize(word).split())


def regex_text(text: str) -> str:
    """A segment's text as regex criteria see it: NFKC, whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def _yo(text: str) -> str:
    """``ё`` as ``е`` (one character for one, so match offsets hold for the original)."""
    return text.replace("ё", "е").replace("Ё", "Е")


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a phrase or pattern was found."""

    segment: int
    """Index into the transcript's segments."""
    start: float
    end: float
    heard: str
    """What was heard (normalised words, or the regex match)."""
    target: str
    """The phrase (as written in the profile) or the pattern."""
    score: float
    """Similarity 0-100 (100 for an exact or regex match)."""


@dataclass(slots=True)
class _Seg:
    index: int
    start: float
    end: float
    speaker: str
    tokens: list[str]
    lemmas: list[str]
    """The dictionary form of each token."""
    times: list[tuple[float, float]]
    source: Segment
    _regex: tuple[str, list[tuple[int, int, float, float]]] | None = None
    _runs: dict[int, list[str]] = field(default_factory=dict)

    def regex(self) -> tuple[str, list[tuple[int, int, float, float]]]:
        """The text regex criteria search, and its words' character spans with their times
        (built on first use: most profiles have no regex criteria)."""
        if self._regex is None:
            words = self.source.words
            if not words:
                self._regex = (regex_text(self.source.text), [])
            else:
                parts: list[str] = []
                spans: list[tuple[int, int, float, float]] = []
                offset = 0
                for word in words:
                    raw = regex_text(word.word)
                    if not raw:
                        continue
                    if parts:
                        offset += 1
                    parts.append(raw)
                    spans.append((offset, offset + len(raw), word.start, word.end))
                    offset += len(raw)
                self._regex = (" ".join(parts), spans)
        return self._regex

    def runs(self, size: int) -> list[str]:
        """Runs of ``size`` consecutive words (the k-th starts at word k)."""
        found = self._runs.get(size)
        if found is None:
            tokens = self.tokens
            found = self._runs[size] = [
                " ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)
            ]
        return found


@dataclass(slots=True)
class _Phrase:
    text: str
    norm: str
    squashed: str
    tokens: tuple[str, ...]
    lemmas: list[str]
    short: tuple[frozenset[str], ...]
    """Each short word's accepted spellings: alone, or glued to a neighbour."""
    negations: frozenset[str]
    exact: bool

    def heard_in(self, run: Sequence[str]) -> bool:
        """Whether a fuzzily similar run keeps the short words and adds no negation."""
        return all(any(form in run for form in forms) for forms in self.short) and not any(
            word in NEGATIONS and word not in self.negations for word in run
        )


@dataclass(slots=True)
class _Runs:
    """Every run of ``size`` consecutive words in a set of segments."""

    texts: list[str]
    offsets: list[int]
    """Where each segment's runs begin in ``texts``."""
    segments: list[int]
    """The segment index of each offset."""
    _squashed: dict[str, list[int]] | None = None

    def owner(self, k: int) -> tuple[int, int]:
        """(segment index, first word) of run ``k``."""
        j = bisect_right(self.offsets, k) - 1
        return self.segments[j], k - self.offsets[j]

    def squashed(self) -> dict[str, list[int]]:
        """Run text without its spaces -> the runs spelling it (for exact phrases)."""
        if self._squashed is None:
            table: dict[str, list[int]] = {}
            for k, text in enumerate(self.texts):
                table.setdefault(text.replace(" ", ""), []).append(k)
            self._squashed = table
        return self._squashed


@dataclass(slots=True)
class Index:
    """A transcript prepared for matching; build once per analysis (:meth:`build`)."""

    segments: list[_Seg]
    _runs: dict[tuple[tuple[int, ...], int], _Runs] = field(default_factory=dict)
    _lemmas: dict[str, list[tuple[int, int]]] | None = None

    @classmethod
    def build(cls, segments: Sequence[Segment]) -> Index:
        return cls([_prepare(i, s) for i, s in enumerate(segments)])

    def select(self, speakers: frozenset[str] | None, start: float, end: float) -> list[int]:
        """Indices of the segments by ``speakers`` (None: anyone) overlapping [start, end]."""
        return [
            s.index
            for s in self.segments
            if (speakers is None or s.speaker in speakers) and s.end >= start and s.start <= end
        ]

    def runs(self, segments: tuple[int, ...], size: int) -> _Runs:
        """The runs of ``size`` words in ``segments`` (cached per segment and per set)."""
        key = (segments, size)
        found = self._runs.get(key)
        if found is None:
            texts: list[str] = []
            offsets: list[int] = []
            owners: list[int] = []
            for index in segments:
                seg_texts = self.segments[index].runs(size)
                if seg_texts:
                    offsets.append(len(texts))
                    owners.append(index)
                    texts.extend(seg_texts)
            found = self._runs[key] = _Runs(texts, offsets, owners)
        return found

    def inflected(self, phrase: _Phrase) -> list[tuple[int, int]]:
        """(segment index, first word) of every run whose lemmas are the phrase's."""
        if self._lemmas is None:
            self._lemmas = {}
            for seg in self.segments:
                for i, word in enumerate(seg.lemmas):
                    self._lemmas.setdefault(word, []).append((seg.index, i))
        n = len(phrase.lemmas)
        return [
            (index, i)
            for index, i in self._lemmas.get(phrase.lemmas[0], ())
            if self.segments[index].lemmas[i : i + n] == phrase.lemmas
        ]

    def find(
        self, phrases: Iterable[str], segments: Sequence[int], start: float, end: float
    ) -> list[Hit]:
        """Every match of any of ``phrases`` in ``segments`` that overlaps [start, end]:
        at most one per segment (the best, then the earliest), in time order."""
        chosen = tuple(segments)
        members = frozenset(chosen)
        by_size: dict[int, list[_Phrase]] = {}
        # (phrase, segment index, first word, words, score, exact)
        found: list[tuple[_Phrase, int, int, int, float, bool]] = []
        for phrase in _phrases(tuple(phrases)):
            n = len(phrase.tokens)
            for size in (n, n - 1, n + 1):
                if size >= 1:
                    by_size.setdefault(size, []).append(phrase)
            for index, first in self.inflected(phrase):
                if index in members:
                    heard = " ".join(self.segments[index].tokens[first : first + n])
                    found.append((phrase, index, first, n, _similarity(phrase, heard), True))
        for size in sorted(by_size):
            runs = self.runs(chosen, size)
            if not runs.texts:
                continue
            group = by_size[size]
            short = [p for p in group if p.exact]
            if short:
                table = runs.squashed()
                for phrase in short:
                    for k in table.get(phrase.squashed, ()):
                        found.append((phrase, *runs.owner(k), size, 100.0, True))
            fuzzy = [p for p in group if not p.exact]
            if fuzzy:
                scores = process.cdist(
                    [p.norm for p in fuzzy],
                    runs.texts,
                    scorer=fuzz.ratio,
                    score_cutoff=FUZZY_THRESHOLD,
                    dtype=np.float32,
                    workers=1,
                )
                rows, cols = np.nonzero(scores)
                for row, k in zip(rows.tolist(), cols.tolist(), strict=True):
                    score = float(scores[row, k])
                    found.append((fuzzy[row], *runs.owner(k), size, score, False))
        best: dict[int, Hit] = {}
        for phrase, index, first, size, score, exact in found:
            seg = self.segments[index]
            words = seg.tokens[first : first + size]
            if not exact and not phrase.heard_in(words):
                continue
            hit = Hit(
                segment=index,
                start=seg.times[first][0],
                end=seg.times[first + size - 1][1],
                heard=" ".join(words),
                target=phrase.text,
                score=round(score, 1),
            )
            if hit.end < start or hit.start > end:
                continue
            held = best.get(index)
            if held is None or (hit.score, -hit.start) > (held.score, -held.start):
                best[index] = hit
        return sorted(best.values(), key=lambda h: (h.start, h.segment))

    def search(self, pattern: str, segments: Sequence[int], start: float, end: float) -> list[Hit]:
        """The first match of ``pattern`` overlapping [start, end] in each of ``segments``."""
        compiled = compile_pattern(_yo(pattern))
        hits: list[Hit] = []
        for index in segments:
            seg = self.segments[index]
            text = seg.regex()[0]
            for m_start, m_end in compiled.spans(_yo(text)):
                t0, t1 = _char_times(seg, m_start, m_end)
                if t1 < start or t0 > end:
                    continue
                heard = text[m_start:m_end]
                hits.append(Hit(index, t0, t1, heard, compiled.pattern, 100.0))
                break
        return sorted(hits, key=lambda h: (h.start, h.segment))


@lru_cache(maxsize=4096)
def _phrase(text: str) -> _Phrase:
    norm = normalize(text)
    tokens = tuple(norm.split())
    return _Phrase(
        text=text,
        norm=norm,
        squashed=norm.replace(" ", ""),
        tokens=tokens,
        lemmas=[lemma(t) for t in tokens],
        short=tuple(_glued(tokens, i) for i, t in enumerate(tokens) if len(t) <= SHORT_WORD),
        negations=NEGATIONS.intersection(tokens),
        exact=len(norm) < EXACT_BELOW,
    )


def _glued(tokens: tuple[str, ...], i: int) -> frozenset[str]:
    """Word ``i`` alone, or run together with the word before or after it."""
    forms = {tokens[i]}
    if i > 0:
        forms.add(tokens[i - 1] + tokens[i])
    if i + 1 < len(tokens):
        forms.add(tokens[i] + tokens[i + 1])
    return frozenset(forms)


def _similarity(phrase: _Phrase, heard: str) -> float:
    """100 for the phrase's own words, else how close an inflected form is (for the detail)."""
    return 100.0 if heard == phrase.norm else fuzz.ratio(phrase.norm, heard)


def _phrases(texts: tuple[str, ...]) -> list[_Phrase]:
    return [p for p in (_phrase(t) for t in texts) if p.tokens]


def _prepare(index: int, segment: Segment) -> _Seg:
    tokens: list[str] = []
    times: list[tuple[float, float]] = []
    if segment.words:
        for word in segment.words:
            for token in word_tokens(word.word):
                tokens.append(token)
                times.append((word.start, word.end))
    else:
        tokens = normalize(segment.text).split()
        span = max(segment.end - segment.start, 0.0)
        step = span / len(tokens) if tokens else 0.0
        times = [
            (round(segment.start + i * step, 3), round(segment.start + (i + 1) * step, 3))
            for i in range(len(tokens))
        ]
    lemmas = [lemma(t) for t in tokens]
    return _Seg(index, segment.start, segment.end, segment.speaker, tokens, lemmas, times, segment)


def _char_times(seg: _Seg, first: int, last: int) -> tuple[float, float]:
    """Times of the characters [first, last) of a segment's regex text."""
    text, spans = seg.regex()
    if spans:
        covering = [(s, e) for c0, c1, s, e in spans if c1 > first and c0 < last]
        if covering:
            return covering[0][0], covering[-1][1]
        return seg.start, seg.end
    length = max(len(text), 1)
    span = max(seg.end - seg.start, 0.0)
    return (
        round(seg.start + span * first / length, 3),
        round(seg.start + span * last / length, 3),
    )
