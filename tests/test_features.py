"""The block-wise feature extractor gives faster-whisper's features and transcripts.

Bit-for-bit equality holds on one CPU only: numpy's BLAS picks its kernels by instruction set
(AVX-512, AVX2, ...), and a different summation order moves a value by a float32 ULP or two.
So the features must agree to within a few ULPs of their magnitude, and the transcript made
from them must be faster-whisper's own, word for word. (Not character for character: with
OpenBLAS's Haswell kernels those 1-ULP differences were enough to turn "Riverbank Support
Line" into "riverbank support line" and move two segment boundaries by 0.04 s.)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import WhisperModel
from faster_whisper.feature_extractor import FeatureExtractor

from aica.speech.audio import SAMPLE_RATE, decode
from aica.speech.features import BLOCK_FRAMES, BlockFeatureExtractor
from aica.speech.whisper_models import resolve_model
from tests.audio import AudioFactory

ULPS = 4
"""Allowed difference, in float32 ULPs of the largest feature; one CPU to another moves 1."""
LONG_TEXT = (
    "Thank you for calling the river bank support line. My name is Sarah and I will help you "
    "today. I can see two payments for the same order on your account from last week. The "
    "second payment has been refunded and it will reach your card within five working days. "
    "While I have you, our new mobile application lets you check every payment yourself. You "
    "can download it from the store on your phone and sign in with the email address on your "
    "account. Is there anything else I can help you with? Have a great evening and goodbye."
)
"""Distinct sentences, longer than one block (30 s), so the transcript spans blocks."""
BOUNDARY = 0.1
"""Seconds a segment boundary may move: five of Whisper's 0.02 s timestamp steps."""


def _audio(factory: AudioFactory, text: str) -> np.ndarray:
    return decode(factory.speech(text), split_channels=False)[0]


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture(scope="module")
def speech(factory: AudioFactory) -> np.ndarray:
    return _audio(factory, "The quick brown fox jumps over the lazy dog near the river bank.")


@pytest.mark.parametrize("repeat", [1, 7, 20])
@pytest.mark.parametrize("trim", [0, 1, 159, 161])
def test_block_features_equal_faster_whispers_within_float32_rounding(
    speech: np.ndarray, repeat: int, trim: int
) -> None:
    """Lengths below, at and well past one block, with odd sample counts."""
    audio = np.tile(speech, repeat)[: len(speech) * repeat - trim]
    expected = FeatureExtractor(feature_size=80)(audio, chunk_length=30)
    actual = BlockFeatureExtractor(feature_size=80)(audio, chunk_length=30)
    assert actual.shape == expected.shape
    tolerance = ULPS * np.spacing(np.abs(expected).max())
    worst = float(np.abs(actual - expected).max())
    assert worst <= tolerance, f"{worst:.3g} apart, {tolerance:.3g} allowed"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> WhisperModel:
    path = resolve_model("tiny.en", Path(tmp_path_factory.mktemp("data")))
    return WhisperModel(path, device="cpu", compute_type="int8")


def test_the_transcript_from_block_features_is_faster_whispers_own(
    factory: AudioFactory, model: WhisperModel
) -> None:
    audio = _audio(factory, LONG_TEXT)
    assert len(audio) / SAMPLE_RATE > 30

    def transcript(extractor: FeatureExtractor) -> list[tuple[float, float, list[str]]]:
        model.feature_extractor = extractor
        segments, _ = model.transcribe(audio, language="en", beam_size=5)
        return [(s.start, s.end, re.findall(r"[\w']+", s.text.lower())) for s in segments]

    own = transcript(FeatureExtractor(**model.feat_kwargs))
    blocks = transcript(BlockFeatureExtractor(**model.feat_kwargs))
    assert [words for *_, words in blocks] == [words for *_, words in own]
    for (start, end, _), (own_start, own_end, _) in zip(blocks, own, strict=True):
        assert abs(start - own_start) <= BOUNDARY and abs(end - own_end) <= BOUNDARY
    spoken = [word for *_, words in own for word in words]
    assert {"refunded", "download", "goodbye"} <= set(spoken), spoken


def test_long_audio_spans_several_blocks(speech: np.ndarray) -> None:
    audio = np.tile(speech, 20)
    frames = BlockFeatureExtractor(feature_size=80)(audio).shape[1]
    assert frames > 2 * BLOCK_FRAMES
