"""The block-wise feature extractor gives faster-whisper's features exactly."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper.feature_extractor import FeatureExtractor

from aica.speech.audio import decode
from aica.speech.features import BLOCK_FRAMES, BlockFeatureExtractor
from tests.audio import AudioFactory


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache").speech(
        "The quick brown fox jumps over the lazy dog near the river bank."
    )
    return decode(path, split_channels=False)[0]


@pytest.mark.parametrize("repeat", [1, 7, 20])
@pytest.mark.parametrize("trim", [0, 1, 159, 161])
def test_block_features_equal_faster_whispers_bit_for_bit(
    speech: np.ndarray, repeat: int, trim: int
) -> None:
    """Lengths below, at and well past one block, with odd sample counts."""
    audio = np.tile(speech, repeat)[: len(speech) * repeat - trim]
    expected = FeatureExtractor(feature_size=80)(audio, chunk_length=30)
    actual = BlockFeatureExtractor(feature_size=80)(audio, chunk_length=30)
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected)


def test_long_audio_spans_several_blocks(speech: np.ndarray) -> None:
    audio = np.tile(speech, 20)
    frames = BlockFeatureExtractor(feature_size=80)(audio).shape[1]
    assert frames > 2 * BLOCK_FRAMES
