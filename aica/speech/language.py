"""Which language a call is in, voted over its speech rather than guessed from its start.

faster-whisper decides from the first 30 seconds of one channel: a greeting, a hold prompt or
a robotic voice there decides the whole call (issue 19: a Russian call read as Lithuanian).
Here each channel's voice-activity speech is sampled in up to ``WINDOWS_PER_CHANNEL``
30-second windows spread over the call, Whisper's language probabilities are averaged over
all windows weighted by their speech seconds, and the project's ``languages`` (when it lists
any) restrict the choice. The overall favourite is kept too, so a call in a language the
project does not list can be flagged instead of silently transcribed as another.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from aica.speech.audio import SAMPLE_RATE

WINDOW = 30 * SAMPLE_RATE
WINDOWS_PER_CHANNEL = 2
MIN_SPEECH = SAMPLE_RATE
"""A window with less than a second of speech says little about the language."""


@dataclass(frozen=True)
class Detection:
    language: str
    """The most likely language the project allows (any, when it lists none)."""
    probability: float
    """Its average probability over the windows (0..1)."""
    top: str
    """The most likely language of all."""
    top_probability: float


def detect(
    model: Any, speech: Sequence[npt.NDArray[np.float32]], allowed: Collection[str] = ()
) -> Detection | None:
    """Vote over ``speech`` (each channel's speech samples); None when there is too little."""
    totals: dict[str, float] = defaultdict(float)
    weight = 0.0
    for samples in speech:
        for window in _windows(samples):
            features = model.feature_extractor(window)[..., : model.feature_extractor.nb_max_frames]
            encoded = model.encode(_pad(features, model.feature_extractor.nb_max_frames))
            seconds = len(window) / SAMPLE_RATE
            for token, probability in model.model.detect_language(encoded)[0]:
                totals[token[2:-2]] += probability * seconds
            weight += seconds
    if not weight:
        return None
    average = {code: total / weight for code, total in totals.items()}
    top = max(average, key=average.__getitem__)
    candidates = [code for code in allowed if code in average] or [top]
    language = max(candidates, key=average.__getitem__)
    return Detection(
        language=language,
        probability=round(average[language], 4),
        top=top,
        top_probability=round(average[top], 4),
    )


def _windows(samples: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
    if len(samples) < MIN_SPEECH:
        return []
    if len(samples) <= WINDOW:
        return [samples]
    starts = np.linspace(0, len(samples) - WINDOW, WINDOWS_PER_CHANNEL).astype(int)
    return [samples[s : s + WINDOW] for s in starts]


def _pad(features: npt.NDArray[np.float32], frames: int) -> npt.NDArray[np.float32]:
    missing = frames - features.shape[-1]
    if missing <= 0:
        return features
    return np.pad(features, [(0, 0)] * (features.ndim - 1) + [(0, missing)])
