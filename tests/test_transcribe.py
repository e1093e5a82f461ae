"""aica.speech.transcribe on real speech (espeak-ng), with the packaged models only."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from pathlib import Path
from typing import Any

import jiwer
import pytest

from aica.config import Settings
from aica.errors import BadInput, UnsupportedMediaType
from aica.speech.transcribe import NotTranscribable, Transcriber, load_model
from aica.speech.whisper_models import BASE
from aica.transcript import Transcript
from tests.audio import AudioFactory, Turn, wav_seconds

WER_BOUND = 0.25
"""tiny.en on espeak-ng's en-us voice: measured 0.00 (wav, mp3, ogg, flac) and 0.07 (m4a) here."""
PASSAGE = (
    "Good morning, thank you for calling customer support. My name is Sarah. "
    "I can see two payments for your order, and I will refund the second one today."
)
REPEATED = "Your order number is four five seven two."
RUSSIAN = (
    "Добрый день, компания Ромашка, меня зовут Анна, слушаю вас. Чем могу помочь? "
    "Вы получите ответ в течение двух дней."
)
FORMATS = ["wav", "mp3", "ogg", "flac", "m4a"]
CALL = [
    Turn(0, 0.5, "Good morning, thank you for calling. How can I help you?"),
    Turn(1, 5.0, "Hello, I was charged twice for my order."),
    Turn(0, 9.0, "I am sorry about that. I will refund the second payment today."),
    Turn(1, 14.5, "Thank you very much."),
]


def words(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def transcriber(data_dir: Path) -> Transcriber:
    return Transcriber(Settings(data_dir=data_dir, whisper_model="tiny.en"))


@pytest.fixture(scope="module")
def call_result(transcriber: Transcriber, audio: AudioFactory) -> tuple[Transcript, list[float]]:
    progress: list[float] = []
    transcript = transcriber.transcribe(
        audio.call(CALL), language=None, agent_channel=0, on_progress=progress.append
    )
    return transcript, progress


@pytest.mark.parametrize("fmt", FORMATS)
def test_english_speech_in_every_format(
    fmt: str, transcriber: Transcriber, audio: AudioFactory
) -> None:
    path = audio.encoded(PASSAGE, fmt)
    transcript = transcriber.transcribe(path, language=None)

    assert transcript.language == "en"
    assert transcript.channels == 1
    assert transcript.duration == pytest.approx(wav_seconds(audio.speech(PASSAGE)), abs=0.1)
    error = jiwer.wer(words(PASSAGE), words(transcript.text))
    assert error <= WER_BOUND, (fmt, error, transcript.text)
    assert {s.speaker for s in transcript.segments} == {"unknown"}
    assert {s.channel for s in transcript.segments} == {0}
    # word timestamps: ordered, inside the audio, and they spell the segment out
    for segment in transcript.segments:
        assert segment.words
        assert words(" ".join(w.word for w in segment.words)) == words(segment.text)
        for word in segment.words:
            assert 0 <= word.start <= word.end <= transcript.duration + 0.5
            assert 0 < word.probability <= 1


def test_stereo_call_is_split_by_speaker_and_merged_in_time(
    call_result: tuple[Transcript, list[float]], audio: AudioFactory
) -> None:
    transcript, _ = call_result
    assert transcript.channels == 2
    assert transcript.language == "en"
    assert transcript.duration == pytest.approx(wav_seconds(audio.call(CALL)), abs=0.1)

    # each turn is its own segment, in the order spoken, labelled by its channel
    assert [(s.speaker, s.channel) for s in transcript.segments] == [
        ("agent", 0),
        ("customer", 1),
        ("agent", 0),
        ("customer", 1),
    ]
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    for segment, turn in zip(transcript.segments, CALL, strict=True):
        assert abs(segment.start - turn.start) < 1.0, (segment, turn)
        assert jiwer.wer(words(turn.text), words(segment.text)) <= 0.35, segment.text

    agent = words(" ".join(s.text for s in transcript.segments if s.speaker == "agent"))
    customer = words(" ".join(s.text for s in transcript.segments if s.speaker == "customer"))
    assert "morning" in agent and "refund" in agent
    assert "charged" in customer and "thank you very much" in customer
    assert "refund" not in customer and "charged" not in agent
    assert transcript.text == " ".join(s.text for s in transcript.segments)


def test_agent_channel_one_swaps_the_labels(
    call_result: tuple[Transcript, list[float]], transcriber: Transcriber, audio: AudioFactory
) -> None:
    default, _ = call_result
    swapped = transcriber.transcribe(audio.call(CALL), language="en", agent_channel=1)
    assert [(s.speaker, s.channel) for s in swapped.segments] == [
        ("customer", 0),
        ("agent", 1),
        ("customer", 0),
        ("agent", 1),
    ]
    assert [s.text for s in swapped.segments] == [s.text for s in default.segments]


def test_progress_rises_to_one(call_result: tuple[Transcript, list[float]]) -> None:
    _, progress = call_result
    assert len(progress) >= 3  # each segment reports, both channels
    assert progress == sorted(progress)
    assert all(0.0 <= p <= 1.0 for p in progress)
    assert progress[-1] == 1.0
    assert all(p < 1.0 for p in progress[:-1])
    # the first channel is half the audio: its segments report below one half
    assert progress[0] < 0.5


def test_a_mono_recording_saved_as_stereo_is_transcribed_once(
    transcriber: Transcriber, audio: AudioFactory
) -> None:
    transcript = transcriber.transcribe(
        audio.duplicated_stereo("Please call me back tomorrow morning."), language="auto"
    )
    assert transcript.channels == 2
    assert len(transcript.segments) == 1
    assert transcript.segments[0].speaker == "unknown"
    assert "tomorrow morning" in words(transcript.text)


@pytest.mark.parametrize("kind", ["silence", "stereo-silence", "hold-music"])
def test_no_segments_are_invented_without_speech(
    kind: str, transcriber: Transcriber, audio: AudioFactory
) -> None:
    path = {
        "silence": lambda: audio.silence(12),
        "stereo-silence": lambda: audio.silence(6, channels=2),
        "hold-music": lambda: audio.tones(20),
    }[kind]()
    progress: list[float] = []
    transcript = transcriber.transcribe(path, language=None, on_progress=progress.append)
    assert transcript.segments == []
    assert transcript.text == ""
    assert transcript.language == "en"
    assert progress == [1.0]


def test_transcript_json_round_trip(call_result: tuple[Transcript, list[float]]) -> None:
    transcript, _ = call_result
    stored: dict[str, Any] = json.loads(json.dumps(transcript.to_json()))
    assert set(stored) == {
        "language",
        "duration",
        "channels",
        "text",
        "segments",
        "model",
        "language_probability",
        "warnings",
    }
    assert set(stored["segments"][0]) == {
        "start",
        "end",
        "speaker",
        "channel",
        "text",
        "words",
        "low_confidence",
    }
    assert set(stored["segments"][0]["words"][0]) == {"start", "end", "word", "probability"}
    assert Transcript.from_json(stored) == transcript
    assert Transcript.from_json(json.dumps(stored)) == transcript


def test_the_model_is_loaded_once_per_process(transcriber: Transcriber, tmp_path: Path) -> None:
    other = Transcriber(Settings(data_dir=tmp_path, whisper_model="tiny.en"))
    assert other.load() is transcriber.load()

    # concurrent first loads of a new configuration load it once
    results: list[object] = []
    barrier = threading.Barrier(4)

    def load() -> None:
        barrier.wait()
        results.append(load_model(transcriber.model_path, cpu_threads=1))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert all(r is results[0] for r in results)
    assert results[0] is not transcriber.load()


def test_language_the_model_cannot_handle_is_refused_up_front(
    transcriber: Transcriber, tmp_path: Path
) -> None:
    missing = tmp_path / "not-even-there.wav"
    with pytest.raises(BadInput, match="transcribes English only"):
        transcriber.transcribe(missing, language="ru")
    with pytest.raises(BadInput, match="English only"):
        transcriber.check_language("ru")
    transcriber.check_language("auto")


def test_unsupported_files_are_refused(transcriber: Transcriber, tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio at all\n" * 100)
    with pytest.raises(UnsupportedMediaType):
        transcriber.transcribe(path, language=None)


def test_a_sentence_said_twelve_times_is_transcribed_about_twelve_times(
    transcriber: Transcriber, audio: AudioFactory
) -> None:
    transcript = transcriber.transcribe(audio.speech(" ".join([REPEATED] * 12)), language="en")
    said = words(transcript.text).count("order number")
    assert 10 <= said <= 14, transcript.text
    assert not any(w.code == "repetition_collapsed" for w in transcript.warnings)


def test_the_same_file_gives_the_same_transcript_every_time(
    transcriber: Transcriber, audio: AudioFactory
) -> None:
    # the repeated sentence is what made faster-whisper fall back to random sampling
    path = audio.speech(" ".join([REPEATED] * 12))
    runs = [transcriber.transcribe(path, language="en") for _ in range(3)]
    assert runs[1] == runs[0]
    assert runs[2] == runs[0]


def test_a_call_the_english_model_cannot_understand_fails_loudly(
    transcriber: Transcriber, audio: AudioFactory
) -> None:
    russian = audio.speech(RUSSIAN, voice="ru")
    with pytest.raises(NotTranscribable, match=r"English-only model tiny\.en.*AICA_WHISPER_MODEL"):
        transcriber.transcribe(russian, language="auto")


@pytest.fixture(scope="module")
def base(data_dir: Path) -> Transcriber:
    if not all(importlib.util.find_spec(p) for p in BASE.packages):
        pytest.skip("pip install 'aica[multilingual]' to test the base model")
    return Transcriber(Settings(data_dir=data_dir, whisper_model="base"))


def test_project_languages_restrict_detection(base: Transcriber, audio: AudioFactory) -> None:
    russian = audio.speech(RUSSIAN, voice="ru")
    transcript = base.transcribe(russian, language="auto", languages=["ru", "en"])
    assert transcript.language == "ru"
    assert transcript.language_probability is not None
    assert 0 < transcript.language_probability <= 1
    assert any("\u0400" <= ch <= "\u04ff" for ch in transcript.text), transcript.text


def test_a_call_in_a_language_the_project_does_not_list_is_flagged(
    base: Transcriber, audio: AudioFactory
) -> None:
    english = audio.speech(PASSAGE)
    listed = base.transcribe(english, language="auto", languages=["en", "ru"])
    assert listed.language == "en"
    assert listed.warnings == []

    unlisted = base.transcribe(english, language="auto", languages=["ru", "de"])
    flagged = [w for w in unlisted.warnings if w.code == "language_not_allowed"]
    assert len(flagged) == 1 and "en (probability" in flagged[0].message

    forced = base.transcribe(english, language="ru")
    assert forced.language == "ru"
    assert forced.language_probability is None  # not detected: the project chose it
    assert [w.code for w in forced.warnings].count("language_mismatch") == 1


def test_russian_with_the_multilingual_base_model(base: Transcriber, audio: AudioFactory) -> None:
    base.check_language("ru")
    speech = audio.speech("Спасибо большое, до свидания.", voice="ru")

    detected = base.transcribe(speech, language="auto")
    assert detected.language == "ru"
    assert "спасибо" in words(detected.text) and "свидания" in words(detected.text)

    forced = base.transcribe(speech, language="ru")
    assert forced.language == "ru"
    assert "спасибо" in words(forced.text)
