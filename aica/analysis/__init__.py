"""Call analysis: profiles (scorecards), call metrics and the built-in analyzer.

A pure library (no database, no HTTP): ``analyze(transcript, profile)`` turns a
:class:`~aica.speech.transcribe.Transcript` into an :class:`AnalysisResult`.
"""

from aica.analysis.analyzer import AnalysisResult, CriterionResult, Evidence, analyze
from aica.analysis.metrics import CallMetrics, compute_metrics
from aica.analysis.profiles import (
    BUILTIN,
    Category,
    Criterion,
    Profile,
    Window,
    parse_profile,
    profile_to_json,
)

__all__ = [
    "BUILTIN",
    "AnalysisResult",
    "CallMetrics",
    "Category",
    "Criterion",
    "CriterionResult",
    "Evidence",
    "Profile",
    "Window",
    "analyze",
    "compute_metrics",
    "parse_profile",
    "profile_to_json",
]
