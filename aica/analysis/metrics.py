"""Call metrics from a transcript's segment times (and word counts).

Speech is the union of the segments' ``[start, end]`` spans, per side. Definitions:

- ``duration``: seconds of audio (the transcript's, or the last segment's end if later).
- ``speech``: seconds in which anybody speaks.
- ``agent_talk`` / ``customer_talk``: seconds in which that side speaks.
- ``talk_ratio``: the agent's share of the talk time, ``agent_talk / (agent_talk +
  customer_talk)``, 0..1.
- ``silence``: seconds in which nobody speaks, from the first speech to the last (ringing
  before anybody speaks and the tail after the last word are not dead air);
  ``silence_ratio`` is its share of that stretch; ``longest_silence`` the longest such gap.
  A call in which nobody speaks at all is silent for its whole duration (ratio 1).
- ``overtalk``: seconds in which both sides speak at once.
- ``agent_wpm`` / ``customer_wpm``: that side's words per minute of its own talk time (words
  are the segment's word timestamps, else the words of its text).

Mono calls (segments with speaker ``unknown``: one channel, or two carrying the same signal)
cannot tell the sides apart, so ``agent_talk``, ``customer_talk``, ``talk_ratio``,
``overtalk``, ``agent_wpm`` and ``customer_wpm`` are ``None`` (undefined, never 0): a metric
criterion on an undefined metric is *not applicable* and left out of the score. ``speech``,
``silence`` and the rest are measured as usual. A mono call whose sides were separated by
voice (both on one channel) has every metric but ``overtalk``: one voice is heard at a time.

:func:`compute_metrics` can measure a stretch of the call only (``start``/``end``): segments
are clipped to it, a word counts when its midpoint falls inside, and ``duration`` is the
stretch's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from aica.analysis.matching import normalize, word_tokens
from aica.transcript import Segment, Transcript

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class CallMetrics:
    duration: float
    speech: float
    agent_talk: float | None
    customer_talk: float | None
    talk_ratio: float | None
    silence: float
    silence_ratio: float | None
    longest_silence: float
    overtalk: float | None
    agent_wpm: float | None
    customer_wpm: float | None

    def value(self, name: str) -> float | None:
        """A metric by its profile name (``talk_ratio``, ``agent_wpm``, ...)."""
        value: float | None = getattr(self, name)
        return value

    def to_json(self) -> dict[str, float | None]:
        """camelCase keys: ``duration speech agentTalk customerTalk talkRatio silence
        silenceRatio longestSilence overtalk agentWpm customerWpm``."""
        return {_camel(f.name): getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallMetrics:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = data.get(_camel(f.name))
            values[f.name] = None if raw is None else float(raw)
        for name in ("duration", "speech", "silence", "longest_silence"):
            values[name] = values[name] or 0.0
        return cls(**values)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


SIDES = ("agent", "customer")


def is_mono(segments: Iterable[Segment]) -> bool:
    """Whether the sides are unknown: no segment is labelled agent or customer."""
    return not any(s.speaker in SIDES for s in segments)


def one_channel(segments: Sequence[Segment]) -> bool:
    """Whether both sides were told apart by voice on one channel (a separated mono call),
    where each moment has one voice and speaking at once cannot be seen."""
    channels = {side: {s.channel for s in segments if s.speaker == side} for side in SIDES}
    return bool(channels["agent"] & channels["customer"])


def compute_metrics(
    transcript: Transcript, *, start: float | None = None, end: float | None = None
) -> CallMetrics:
    """The metrics of the call, or of its stretch [start, end] (see the module doc)."""
    segments = transcript.segments
    last = max((s.end for s in segments), default=0.0)
    lo = 0.0 if start is None else max(0.0, start)
    hi = max(transcript.duration, last) if end is None else end
    hi = max(hi, lo)
    duration = hi - lo
    mono = is_mono(segments)

    def spans(side: str | None) -> list[Interval]:
        return merge(
            (max(s.start, lo), min(s.end, hi))
            for s in segments
            if (side is None or s.speaker == side) and s.end > lo and s.start < hi
        )

    speech_spans = spans(None)
    speech = total(speech_spans)
    gaps = silences(speech_spans)
    silence_ratio: float | None
    if speech_spans:
        stretch = speech_spans[-1][1] - speech_spans[0][0]
        silence = total(gaps)
        silence_ratio = silence / stretch if stretch > 0 else 0.0
        longest = max((b - a for a, b in gaps), default=0.0)
    else:
        silence, longest = duration, duration
        silence_ratio = 1.0 if duration > 0 else None

    agent_talk: float | None = None
    customer_talk: float | None = None
    talk_ratio: float | None = None
    overtalk: float | None = None
    agent_wpm: float | None = None
    customer_wpm: float | None = None
    if not mono:
        agent_spans, customer_spans = spans("agent"), spans("customer")
        agent, customer = total(agent_spans), total(customer_spans)
        agent_talk, customer_talk = agent, customer
        talk_ratio = agent / (agent + customer) if agent + customer > 0 else None
        if not one_channel(segments):
            overtalk = total(intersect(agent_spans, customer_spans))
        agent_wpm = _wpm(_words(segments, "agent", lo, hi), agent)
        customer_wpm = _wpm(_words(segments, "customer", lo, hi), customer)

    return CallMetrics(
        duration=_secs(duration),
        speech=_secs(speech),
        agent_talk=_opt_secs(agent_talk),
        customer_talk=_opt_secs(customer_talk),
        talk_ratio=_ratio(talk_ratio),
        silence=_secs(silence),
        silence_ratio=_ratio(silence_ratio),
        longest_silence=_secs(longest),
        overtalk=_opt_secs(overtalk),
        agent_wpm=None if agent_wpm is None else round(agent_wpm, 1),
        customer_wpm=None if customer_wpm is None else round(customer_wpm, 1),
    )


def longest_gap(segments: Sequence[Segment]) -> Interval | None:
    """The longest stretch with nobody speaking between the first and the last speech (the
    earliest of equals), or None when there is no gap."""
    gaps = silences(merge((s.start, s.end) for s in segments))
    if not gaps:
        return None
    return max(gaps, key=lambda g: (round(g[1] - g[0], 3), -g[0]))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of the (non-empty) intervals."""
    out: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def total(intervals: Iterable[Interval]) -> float:
    return sum(b - a for a, b in intervals)


def silences(merged: Sequence[Interval]) -> list[Interval]:
    """The gaps between consecutive merged intervals."""
    return [(merged[i][1], merged[i + 1][0]) for i in range(len(merged) - 1)]


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The intersection of two merged interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _words(segments: Iterable[Segment], side: str, lo: float, hi: float) -> float:
    count = 0.0
    for s in segments:
        if s.speaker != side or s.end <= lo or s.start >= hi:
            continue
        if s.words:
            count += sum(
                1 for w in s.words if lo <= (w.start + w.end) / 2 < hi and word_tokens(w.word)
            )
        else:
            words = len(normalize(s.text).split())
            span = s.end - s.start
            inside = min(s.end, hi) - max(s.start, lo)
            count += words if span <= 0 else words * max(0.0, inside) / span
    return count


def _wpm(words: float, seconds: float) -> float | None:
    return words * 60.0 / seconds if seconds > 0 else None


def _secs(value: float) -> float:
    return round(value, 3) + 0.0  # + 0.0: no -0.0


def _opt_secs(value: float | None) -> float | None:
    return None if value is None else _secs(value)


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
