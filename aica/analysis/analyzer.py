"""The built-in analyzer: a transcript scored against a profile, with no model and no network.

Scoring:

- Each criterion passes or fails; ``passed`` is None when it is *not applicable*: a metric
  that is undefined for this call (``talk_ratio``, ``overtalk``, ``agent_wpm`` on a mono call;
  see :mod:`aica.analysis.metrics`), or any criterion when nobody speaks in the call at all
  (no words in the transcript: the score is None and compliance ``not_checked`` rather than a
  score earned by staying silent). A ``forbidden`` criterion passes when nothing matches.
- A category's score is the weighted share of its applicable criteria that passed, x100
  (rounded to a whole number; None when none of its criteria applies).
- ``quality_score`` is the weighted mean of the applicable categories' (unrounded) scores,
  0-100 to one decimal; None only when nothing at all was applicable. Equivalently, each
  applicable criterion is worth ``points`` = 100 x its category's share of the applicable
  category weight x its share of its category's applicable criterion weight, and the quality
  score is the sum of the points of the passed ones.
- A phrase or pattern criterion that found nothing is *not checked* (``passed`` None, the
  detail says why) rather than missed or passed when its window holds speech the transcriber
  could not transcribe or was unsure of (an ``untranscribed_speech`` warning, a
  ``low_confidence`` segment) on its speaker's side: the line may be right there.
- ``compliance_status``: ``failed`` if any compliance criterion failed, else ``passed`` if
  any was applicable, else ``not_checked`` (no compliance criteria, or none applicable).
- ``improvements``: one line per failed criterion, ``"<description>: <what was wrong>"``,
  most points lost first (ties in profile order).

Speaker and windows:

- ``speaker`` agent/customer keeps the segments of that side. In a mono call the sides are
  unknown, so the filter is not applied (every segment counts) and the result's ``detail``
  says so.
- ``window`` first N s is [0, N] from the start of the recording; last N s is the N seconds
  up to the end of the last speech (trailing silence of a recording does not push a closing
  line out of the window). A phrase or pattern counts when any part of the match lies inside;
  a metric is computed over that stretch.

Evidence: the segments where a phrase/pattern matched (for a forbidden one, where it was
heard), at most :data:`MAX_EVIDENCE` of them, earliest first; for ``longest_silence`` the gap.

Same input, same output: no randomness, every ordering is stable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal, cast

from aica.analysis.language import base_code, spoken_language
from aica.analysis.matching import Hit, Index
from aica.analysis.metrics import CallMetrics, compute_metrics, is_mono, longest_gap, one_channel
from aica.analysis.profiles import Category, Criterion, Profile
from aica.analysis.summary import summarize
from aica.transcript import Transcript

ComplianceStatus = Literal["passed", "failed", "not_checked"]
MAX_EVIDENCE = 5

METRIC_LABELS = {
    "talk_ratio": "agent talk ratio",
    "silence_ratio": "silence ratio",
    "longest_silence": "longest silence",
    "overtalk": "overtalk",
    "agent_wpm": "agent pace",
    "duration": "call duration",
}
OPERATOR_TEXT = {"lt": "below", "lte": "at most", "gt": "above", "gte": "at least"}


@dataclass(frozen=True, slots=True)
class Evidence:
    start: float
    end: float
    speaker: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "speaker": self.speaker, "text": self.text}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            speaker=str(data["speaker"]),
            text=str(data["text"]),
        )


@dataclass(frozen=True, slots=True)
class CriterionResult:
    key: str
    category: str
    description: str
    kind: str
    compliance: bool
    passed: bool | None
    """None: not applicable (left out of the score)."""
    score: float
    """1.0 passed, 0.0 failed or not applicable."""
    points: float
    """Quality-score points this criterion is worth in this call (0 when not applicable)."""
    detail: str
    evidence: list[Evidence] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "category": self.category,
            "description": self.description,
            "kind": self.kind,
            "compliance": self.compliance,
            "passed": self.passed,
            "score": self.score,
            "points": self.points,
            "detail": self.detail,
            "evidence": [e.to_json() for e in self.evidence],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CriterionResult:
        passed = data.get("passed")
        return cls(
            key=str(data["key"]),
            category=str(data["category"]),
            description=str(data.get("description", "")),
            kind=str(data.get("kind", "")),
            compliance=bool(data.get("compliance", False)),
            passed=None if passed is None else bool(passed),
            score=float(data.get("score", 0.0)),
            points=float(data.get("points", 0.0)),
            detail=str(data.get("detail", "")),
            evidence=[Evidence.from_json(e) for e in data.get("evidence") or []],
        )


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    profile: str
    """The profile's key."""
    language: str
    """The language whose phrase sets were used."""
    quality_score: float | None
    categories: dict[str, int | None]
    compliance_status: ComplianceStatus
    improvements: list[str]
    summary: str
    criteria: list[CriterionResult]
    metrics: CallMetrics

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "language": self.language,
            "qualityScore": self.quality_score,
            "categories": dict(self.categories),
            "complianceStatus": self.compliance_status,
            "improvements": list(self.improvements),
            "summary": self.summary,
            "criteria": [c.to_json() for c in self.criteria],
            "metrics": self.metrics.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnalysisResult:
        score = data.get("qualityScore")
        return cls(
            profile=str(data.get("profile", "")),
            language=str(data.get("language", "")),
            quality_score=None if score is None else float(score),
            categories={
                str(k): None if v is None else int(v)
                for k, v in (data.get("categories") or {}).items()
            },
            compliance_status=cast(ComplianceStatus, data.get("complianceStatus", "not_checked")),
            improvements=[str(i) for i in data.get("improvements") or []],
            summary=str(data.get("summary", "")),
            criteria=[CriterionResult.from_json(c) for c in data.get("criteria") or []],
            metrics=CallMetrics.from_json(data.get("metrics") or {}),
        )


@dataclass(frozen=True, slots=True)
class _Outcome:
    passed: bool | None
    detail: str
    evidence: list[Evidence]


class _Call:
    """One transcript, prepared once for every criterion of an analysis."""

    def __init__(self, transcript: Transcript, language: str | None) -> None:
        self.transcript = transcript
        self.segments = transcript.segments
        self.mono = is_mono(self.segments)
        self.index = Index.build(self.segments)
        words = chain.from_iterable(s.tokens for s in self.index.segments)
        self.language = (
            base_code(language) if language else spoken_language(transcript.language, words)
        )
        self.silent = not any(s.tokens for s in self.index.segments)
        last_speech = max((s.end for s in self.segments), default=0.0)
        self.duration = max(transcript.duration, last_speech)
        self.end = last_speech if self.segments else self.duration
        self.metrics = compute_metrics(transcript)
        self.unheard = _unheard(transcript)
        self._windowed: dict[tuple[float, float], CallMetrics] = {}

    def span(self, criterion: Criterion) -> tuple[float, float]:
        window = criterion.window
        if window is None:
            return 0.0, self.duration
        if window.position == "first":
            return 0.0, window.seconds
        return max(0.0, self.end - window.seconds), self.end

    def metrics_for(self, criterion: Criterion) -> CallMetrics:
        if criterion.window is None:
            return self.metrics
        lo, hi = self.span(criterion)
        hi = min(hi, self.duration)
        key = (lo, hi)
        if key not in self._windowed:
            self._windowed[key] = compute_metrics(self.transcript, start=lo, end=hi)
        return self._windowed[key]

    def evidence(self, hits: list[Hit], criterion: Criterion) -> list[Evidence]:
        """Up to MAX_EVIDENCE segments, in time order: the earliest ones, or the latest for a
        "last N s" window."""
        latest = criterion.window is not None and criterion.window.position == "last"
        out = []
        for hit in hits[-MAX_EVIDENCE:] if latest else hits[:MAX_EVIDENCE]:
            s = self.segments[hit.segment]
            out.append(Evidence(s.start, s.end, s.speaker, s.text.strip()))
        return out


def analyze(
    transcript: Transcript, profile: Profile, *, language: str | None = None
) -> AnalysisResult:
    """Score ``transcript`` against ``profile`` (see the module doc).

    ``language`` picks the phrase sets (``en-US`` reads as ``en``); by default, the language
    the call is in (:func:`~aica.analysis.language.spoken_language`: the transcript's label,
    unless its text is written in another script). A criterion without a set for that
    language listens for all of its phrases.
    """
    call = _Call(transcript, language)

    outcomes: list[tuple[Category, Criterion, _Outcome]] = [
        (category, criterion, _judge(call, criterion))
        for category in profile.categories
        for criterion in category.criteria
    ]

    # weights of what applies
    applicable_weight: dict[str, float] = {}
    for category, criterion, outcome in outcomes:
        if outcome.passed is not None:
            applicable_weight[category.key] = (
                applicable_weight.get(category.key, 0.0) + criterion.weight
            )
    category_total = math.fsum(c.weight for c in profile.categories if c.key in applicable_weight)

    results: list[CriterionResult] = []
    earned: dict[str, float] = {}
    for category, criterion, outcome in outcomes:
        points = 0.0
        if outcome.passed is not None:
            share = criterion.weight / applicable_weight[category.key]
            points = 100.0 * (category.weight / category_total) * share
            if outcome.passed:
                earned[category.key] = earned.get(category.key, 0.0) + share
        results.append(
            CriterionResult(
                key=criterion.key,
                category=category.key,
                description=criterion.description,
                kind=criterion.kind,
                compliance=criterion.compliance,
                passed=outcome.passed,
                score=1.0 if outcome.passed else 0.0,
                points=round(points, 2),
                detail=outcome.detail,
                evidence=outcome.evidence,
            )
        )

    categories: dict[str, int | None] = {}
    weighted = 0.0
    for category in profile.categories:
        if category.key not in applicable_weight:
            categories[category.key] = None
            continue
        fraction = earned.get(category.key, 0.0)
        categories[category.key] = _round_half_up(100.0 * fraction)
        weighted += category.weight * 100.0 * fraction
    quality = _round_half_up(10.0 * weighted / category_total) / 10.0 if category_total else None

    compliance = [r.passed for r in results if r.compliance and r.passed is not None]
    status: ComplianceStatus = (
        "failed" if False in compliance else "passed" if compliance else "not_checked"
    )

    # most points lost first; a stable sort keeps ties in profile order
    failed = sorted((r for r in results if r.passed is False), key=lambda r: -r.points)
    improvements = [f"{r.description}: {r.detail}" for r in failed]

    return AnalysisResult(
        profile=profile.key,
        language=call.language,
        quality_score=quality,
        categories=categories,
        compliance_status=status,
        improvements=improvements,
        summary=summarize(transcript.segments),
        criteria=results,
        metrics=call.metrics,
    )


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5 + 1e-9)


UNHEARD_SHARE = 0.2
"""A phrase not found is "not checked" when at least this share of the speech it could be in
was not transcribed reliably: one unsure second in a long call excuses nothing (a bad call
scored 50 instead of 12.5 for a one-word guess at its end)."""


def _judge(call: _Call, criterion: Criterion) -> _Outcome:
    if call.silent:
        return _Outcome(None, "not applicable: nobody speaks in this call", [])
    if criterion.kind == "metric":
        return _judge_metric(call, criterion)
    lo, hi = call.span(criterion)
    speakers = None if call.mono or criterion.speaker == "any" else frozenset({criterion.speaker})
    segments = call.index.select(speakers, lo, hi)
    if criterion.kind == "phrase":
        hits = call.index.find(criterion.phrases_for(call.language), segments, lo, hi)
    else:
        hits = call.index.search(criterion.pattern or "", segments, lo, hi)
    where = _where(call, criterion)
    if not hits:
        unheard = [
            (max(start, lo), min(end, hi))
            for start, end, speaker in call.unheard
            if end >= lo and start <= hi and (speakers is None or speaker in (None, *speakers))
        ]
        lost = sum(end - start for start, end in unheard)
        said = (call.transcript.segments[i] for i in segments)
        heard = sum(
            max(0.0, min(s.end, hi) - max(s.start, lo)) for s in said if not s.low_confidence
        )
        if unheard and lost >= UNHEARD_SHARE * (lost + heard):
            start, end = unheard[0]
            return _Outcome(
                None,
                f"not checked: the speech at {_clock(start)}-{_clock(end)} could not be "
                "transcribed reliably",
                [],
            )
    if criterion.forbidden:
        if hits:
            return _Outcome(False, _heard(criterion, call, hits[0]), call.evidence(hits, criterion))
        what = "forbidden phrases" if criterion.kind == "phrase" else "forbidden pattern"
        return _Outcome(True, f"none of the {what} was heard{where}", [])
    if hits:
        # the match nearest the window's edge: the latest one for a "last N s" window
        shown = hits[-1] if criterion.window and criterion.window.position == "last" else hits[0]
        return _Outcome(True, _heard(criterion, call, shown), call.evidence(hits, criterion))
    if criterion.kind == "phrase":
        names = criterion.phrases_for(call.language)
        example = f' (such as "{names[0]}")' if names else ""
        return _Outcome(False, f"none of the expected phrases{example} was heard{where}", [])
    return _Outcome(False, f"nothing matched /{criterion.pattern}/{where}", [])


def _unheard(transcript: Transcript) -> list[tuple[float, float, str | None]]:
    """(start, end, speaker or None) of the speech the transcript may have wrong or missing."""
    speakers = {s.channel: s.speaker for s in transcript.segments}
    spans: list[tuple[float, float, str | None]] = [
        (w.start, w.end, speakers.get(w.channel) if w.channel is not None else None)
        for w in transcript.warnings
        if w.code == "untranscribed_speech"
    ]
    spans += [(s.start, s.end, s.speaker) for s in transcript.segments if s.low_confidence]
    return sorted(spans, key=lambda span: span[:2])


def _who(criterion: Criterion, call: _Call) -> str:
    if criterion.speaker == "any" or call.mono:
        return ""
    return f" from the {criterion.speaker}"


def _where(call: _Call, criterion: Criterion) -> str:
    text = _who(criterion, call)
    window = criterion.window
    if window is not None:
        text += f" in the {window.position} {_seconds(window.seconds)}"
    if call.mono and criterion.speaker != "any":
        text += " (mono call: both sides checked)"
    return text


def _heard(criterion: Criterion, call: _Call, hit: Hit) -> str:
    """'the agent said "..." at 0:05' (or 'heard "..."' when the side is not known)."""
    quoted = f'"{hit.heard}"'
    if criterion.kind == "phrase" and hit.score < 100.0:
        quoted += f' (close to "{hit.target}")'
    speaker = call.segments[hit.segment].speaker
    lead = f"the {speaker} said" if speaker in ("agent", "customer") else "heard"
    return f"{lead} {quoted} at {_clock(hit.start)}"


def _judge_metric(call: _Call, criterion: Criterion) -> _Outcome:
    name = criterion.metric or ""
    metrics = call.metrics_for(criterion)
    value = metrics.value(name)
    label = METRIC_LABELS.get(name, name)
    window = criterion.window
    scope = f" in the {window.position} {_seconds(window.seconds)}" if window else ""
    operator = criterion.operator or "lte"
    threshold = criterion.threshold or 0.0
    target = f"{OPERATOR_TEXT[operator]} {_metric_text(name, threshold)}"
    if value is None:
        if call.mono:
            why = "the sides are not separated in a mono call"
        elif name == "overtalk" and one_channel(call.segments):
            why = "in a mono call separated by voice, one voice is heard at a time"
        else:
            why = "there is nothing to measure"
        return _Outcome(None, f"not applicable: {label} is undefined ({why})", [])
    passed = _compare(value, operator, threshold)
    detail = f"{label}{scope} was {_metric_text(name, value)} (target: {target})"
    evidence: list[Evidence] = []
    if name == "longest_silence" and window is None:
        gap = longest_gap(call.segments)
        if gap is not None:
            evidence.append(Evidence(round(gap[0], 3), round(gap[1], 3), "none", ""))
            detail += f" at {_clock(gap[0])}"
    return _Outcome(passed, detail, evidence)


def _compare(value: float, operator: str, threshold: float) -> bool:
    if operator == "lt":
        return value < threshold
    if operator == "lte":
        return value <= threshold
    if operator == "gt":
        return value > threshold
    return value >= threshold


def _metric_text(name: str, value: float) -> str:
    if name in ("talk_ratio", "silence_ratio"):
        return f"{value * 100:.0f}%"
    if name == "agent_wpm":
        return f"{value:.0f} words a minute"
    return _seconds(value)


def _seconds(value: float) -> str:
    return f"{round(value, 1):g} s" if value < 120 else _clock(value)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
