"""Which of two separated voices is the agent: the one that says the project's opening lines.

Voice separation (:mod:`aica.speech.diarization`) finds two speakers but not their roles. The
profile already says what an agent says first (its agent-side phrase criteria with a "first
N s" window: the greeting, the company name, an offer of help), so the side heard saying more
of them in their windows is the agent, in any language the profile has phrases for. When
neither or both say as many, the side that speaks first is taken (an agent answers the
phone), with less confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aica.analysis.language import base_code
from aica.analysis.matching import Index
from aica.analysis.profiles import Criterion, Profile
from aica.transcript import Segment

NamedBy = Literal["greeting", "first_speaker"]
FIRST_SPEAKER_CONFIDENCE = 0.6
"""How often the first voice is the agent's, for a guess with nothing else to go on."""


@dataclass(frozen=True, slots=True)
class Naming:
    swap: bool
    """Whether the side labelled ``customer`` is the agent."""
    confidence: float
    by: NamedBy


def name_sides(segments: Sequence[Segment], profile: Profile, language: str) -> Naming:
    """Name the provisional ``agent``/``customer`` sides of ``segments`` (see the module doc);
    the side labelled ``agent`` speaks first."""
    index = Index.build(segments)
    code = base_code(language)
    said = {side: 0 for side in ("agent", "customer")}
    for criterion in _opening_lines(profile):
        seconds = criterion.window.seconds if criterion.window else 0.0
        for side in said:
            chosen = index.select(frozenset({side}), 0.0, seconds)
            if index.find(criterion.phrases_for(code), chosen, 0.0, seconds):
                said[side] += 1
    agent, customer = said["agent"], said["customer"]
    if agent == customer:
        return Naming(False, FIRST_SPEAKER_CONFIDENCE, "first_speaker")
    margin = abs(agent - customer) / (agent + customer)
    return Naming(customer > agent, round(0.7 + 0.3 * margin, 2), "greeting")


def _opening_lines(profile: Profile) -> list[Criterion]:
    return [
        c
        for category in profile.categories
        for c in category.criteria
        if c.kind == "phrase"
        and c.speaker == "agent"
        and not c.forbidden
        and c.window is not None
        and c.window.position == "first"
    ]
