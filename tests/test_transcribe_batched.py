"""AICA_WHISPER_BATCH_SIZE: the batched decoder (the default) and the plain one give the same
guarantees on real speech (espeak-ng): words with timestamps, progress, warnings."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import jiwer
import pytest
from pydantic import ValidationError

from aica.config import Settings
from aica.speech import batched
from aica.speech.audio import SAMPLE_RATE
from aica.speech.transcribe import NotTranscribable, Transcriber
from aica.transcript import Transcript
from tests.audio import AudioFactory, Turn, wav_seconds

PLAIN, BATCHED = 0, 4
SENTENCES = [
    "Good morning, thank you for calling customer support, my name is Sarah.",
    "I can see two payments for your order, and I will refund the second one today.",
    "The courier will deliver the new printer to your office on Thursday afternoon.",
    "Please keep the old box, because the driver will take the broken printer back.",
    "Your reference number is seven three one, and the refund takes five working days.",
    "Is there anything else I can help you with this morning?",
    "Thank you for your patience, and have a wonderful weekend.",
]
MOSTLY_ENGLISH = [
    Turn(0, 0.5, "Good morning, thank you for calling. How can I help you?"),
    Turn(1, 5.0, "Hello, I was charged twice for my order."),
    Turn(0, 9.0, "I am sorry about that. I will refund the second payment today."),
    Turn(1, 14.5, "Thank you very much."),
    Turn(1, 17.0, "Спасибо, до свидания."),
]
RUSSIAN = (
    "Добрый день, компания Ромашка, меня зовут Анна, слушаю вас. Чем могу помочь? "
    "Вы получите ответ в течение двух дней."
)


def words(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


def transcriber(data_dir: Path, batch_size: int) -> Transcriber:
    settings = Settings(data_dir=data_dir, whisper_model="tiny.en", whisper_batch_size=batch_size)
    return Transcriber(settings)


def decoded_in_batches(caplog: pytest.LogCaptureFixture) -> bool:
    return any(r.name == batched.__name__ for r in caplog.records)


def test_batching_is_the_default() -> None:
    assert Settings().whisper_batch_size > 1


@pytest.mark.parametrize("batch_size", [-1, "eight", 2.5])
def test_a_batch_size_that_is_not_a_count_is_a_settings_error(batch_size: object) -> None:
    with pytest.raises(ValidationError, match="whisper_batch_size"):
        Settings(whisper_batch_size=batch_size)


@pytest.mark.parametrize(("batch_size", "in_batches"), [(0, False), (1, False), (4, True)])
def test_the_batch_size_picks_the_decoder_and_both_time_every_word(
    batch_size: int,
    in_batches: bool,
    audio: AudioFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = audio.speech(" ".join(SENTENCES[:2]))
    progress: list[float] = []
    with caplog.at_level(logging.DEBUG, logger=batched.__name__):
        transcript = transcriber(tmp_path, batch_size).transcribe(
            path, language=None, on_progress=progress.append
        )

    assert decoded_in_batches(caplog) == in_batches
    assert transcript.language == "en"
    assert jiwer.wer(words(" ".join(SENTENCES[:2])), words(transcript.text)) <= 0.2
    assert_timed(transcript, wav_seconds(path))
    assert progress and progress == sorted(progress) and progress[-1] == 1.0


def test_speech_over_several_batches_comes_back_whole_and_in_order(
    audio: AudioFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # about 95 s of speech: four 30-second windows, decoded two at a time
    text = " ".join(SENTENCES * 3)
    path = audio.speech(text)
    progress: list[float] = []
    with caplog.at_level(logging.DEBUG, logger=batched.__name__):
        transcript = transcriber(tmp_path, 2).transcribe(
            path, language="en", on_progress=progress.append
        )

    assert "windows of speech, decoded 2 at a time" in caplog.text
    assert jiwer.wer(words(text), words(transcript.text)) <= 0.15, transcript.text
    assert_timed(transcript, wav_seconds(path))
    before_the_end = [p for p in progress if p < 1.0]
    assert len(before_the_end) >= 2  # one report per batch at least, not one at the end
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert transcript.warnings == []


@pytest.mark.parametrize("batch_size", [PLAIN, BATCHED])
def test_an_unsure_passage_is_flagged_in_either_decoder(
    batch_size: int, audio: AudioFactory, tmp_path: Path
) -> None:
    transcript = transcriber(tmp_path, batch_size).transcribe(
        audio.call(MOSTLY_ENGLISH), language=None
    )

    assert {w.code for w in transcript.warnings} <= {
        "low_confidence",
        "untranscribed_speech",
        "repetition_collapsed",
    }
    # the Russian goodbye (17 s on, the customer's channel) is flagged ...
    assert any(w.channel == 1 and w.end > 17.0 and w.start < 20.0 for w in transcript.warnings)
    # ... and the agent's English is neither lost nor doubted
    agent = [s for s in transcript.segments if s.channel == 0]
    assert "refund" in words(" ".join(s.text for s in agent))
    assert not any(s.low_confidence for s in agent)


@pytest.mark.parametrize("batch_size", [PLAIN, BATCHED])
def test_russian_on_the_english_model_fails_loudly_in_either_decoder(
    batch_size: int, audio: AudioFactory, tmp_path: Path
) -> None:
    with pytest.raises(NotTranscribable, match=r"English-only model tiny\.en"):
        transcriber(tmp_path, batch_size).transcribe(
            audio.speech(RUSSIAN, voice="ru"), language="auto"
        )


def test_windows_pack_whole_chunks_up_to_thirty_seconds() -> None:
    second = SAMPLE_RATE
    chunks = [
        {"start": 0, "end": 20 * second},
        {"start": 22 * second, "end": 30 * second},  # 8 s: fits with the first
        {"start": 40 * second, "end": 45 * second},  # 5 s: 33 s would not
        {"start": 50 * second, "end": 79 * second},  # 29 s: a window of its own
    ]
    assert batched.windows(chunks) == [
        (0, 28 * second),
        (28 * second, 33 * second),
        (33 * second, 62 * second),
    ]
    assert batched.windows([]) == []


def assert_timed(transcript: Transcript, duration: float) -> None:
    """Every segment's words spell it out, in order, inside the recording."""
    assert transcript.segments
    last = 0.0
    for segment in transcript.segments:
        assert segment.words
        assert words(" ".join(w.word for w in segment.words)) == words(segment.text)
        for word in segment.words:
            assert last - 0.05 <= word.start <= word.end <= duration + 0.5, word
            assert 0 < word.probability <= 1
            last = word.start
