# ruff: noqa: RUF001  (Russian script)
"""Mono speaker separation: the numpy voice encoder, the weights reader, and two espeak-ng
voices (English and Russian) told apart in calls with known turn boundaries."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from aica.analysis import BUILTIN
from aica.analysis.sides import name_sides
from aica.speech import audio, diarization, speaker_model, torch_weights
from aica.speech.diarization import Diarization, diarize, split_segments
from aica.speech.voice_encoder import VoiceEncoder, mel_frames
from aica.transcript import Segment, Word
from tests.audio import AudioFactory, labelled_right

REFERENCE = Path(__file__).parent / "data" / "voice_encoder_reference.npy"
"""PyTorch 2.13's output of Resemblyzer's encoder for ``harmonic_signal()`` (computed once in
a throwaway environment with torch and librosa; the project never depends on torch)."""

AGENT = (
    "Thank you for calling Acme support, my name is Anna, how can I help you today?",
    "I am sorry to hear that. Could you tell me your order number please?",
    "Thank you. I can see the order here, it was shipped on Monday from our warehouse.",
    "I will send a replacement today and you should get it by Friday.",
)
CUSTOMER = (
    "I ordered a blender two weeks ago and it arrived broken.",
    "Sure, it is four five seven one two nine.",
    "Well the box was crushed and the glass jar is cracked all the way down.",
    "That would be great, thank you so much for your help.",
)
SCRIPTS = {
    "en": (AGENT, CUSTOMER),
    "ru": (
        (
            "Добрый день, компания Акме, меня зовут Анна, чем могу помочь?",
            "Понимаю. Назовите, пожалуйста, номер заказа.",
            "Спасибо. Я вижу заказ, его отправили в понедельник.",
            "Я отправлю замену сегодня, она придёт в пятницу.",
        ),
        (
            "Я заказал блендер две недели назад, и он пришёл разбитым.",
            "Конечно, четыре пять семь один два девять.",
            "Коробка была смята, а стеклянная чаша треснула.",
            "Отлично, большое спасибо за помощь.",
        ),
    ),
}


def harmonic_signal() -> np.ndarray:
    """1.6 s of a voiced, gliding harmonic tone: a fixed input for the reference."""
    t = np.arange(int(1.6 * 16000)) / 16000.0
    f0 = 140 + 40 * np.sin(2 * np.pi * 1.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16000.0
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (0.1 * x).astype(np.float32)


@pytest.fixture(scope="module")
def encoder(speakers_data_dir: Path) -> VoiceEncoder:
    return speaker_model.load_encoder(speakers_data_dir)


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


def test_the_numpy_encoder_matches_pytorch(encoder: VoiceEncoder) -> None:
    mels = mel_frames(harmonic_signal())
    assert mels.shape == (161, 40)
    embedding = encoder.embed(mels[None])[0]
    reference = np.load(REFERENCE)
    assert float(np.linalg.norm(embedding)) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(embedding - reference).max() < 1e-4


def test_a_checkpoint_naming_anything_but_tensors_is_refused(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("ran code from a checkpoint",))

    stream = io.BytesIO()
    for value in (torch_weights._LEGACY_MAGIC, 1001, {"little_endian": True}, Payload()):
        pickle.dump(value, stream, protocol=2)
    hostile = tmp_path / "hostile.pt"
    hostile.write_bytes(stream.getvalue())
    with pytest.raises(torch_weights.UnsafeCheckpoint, match=r"\.print, which is not a tensor"):
        torch_weights.load(hostile)


def test_an_installed_model_that_was_replaced_is_not_loaded(tmp_path: Path) -> None:
    path = speaker_model.weights_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not the weights")
    with pytest.raises(speaker_model.ModelUnavailable, match="sha256"):
        speaker_model.load_encoder(tmp_path)


@pytest.mark.parametrize(
    ("language", "agent_voice", "customer_voice", "phone"),
    [
        ("en", "en-us", "en+f3", False),
        ("en", "en+m3", "en+m7", True),
        ("ru", "ru", "ru+f3", False),
        ("ru", "ru+m3", "ru+m7", True),
    ],
    ids=[
        "man-and-woman-wideband",
        "two-men-telephone-band",
        "russian-man-and-woman-wideband",
        "russian-two-men-telephone-band",
    ],
)
def test_two_voices_in_a_mono_call_are_told_apart(
    encoder: VoiceEncoder,
    factory: AudioFactory,
    language: str,
    agent_voice: str,
    customer_voice: str,
    phone: bool,
) -> None:
    agent, customer = SCRIPTS[language]
    lines = [
        (voice, text)
        for pair in zip(agent, customer, strict=True)
        for voice, text in zip((agent_voice, customer_voice), pair, strict=True)
    ]
    path, truth = factory.conversation(lines, phone=phone)
    found = diarize(audio.decode(path, split_channels=False)[0], encoder)
    assert found.speakers == 2
    assert labelled_right([(t.start, t.end, t.speaker) for t in found.turns], truth) >= 0.9
    assert 0.0 < found.confidence <= 1.0


def test_a_long_call_clustered_on_a_sample_of_its_voice_prints_is_labelled_as_well(
    encoder: VoiceEncoder, factory: AudioFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an hour's call has thousands of voice prints: only MAX_CLUSTERED of them are clustered
    monkeypatch.setattr(diarization, "MAX_CLUSTERED", 20)
    lines = [
        (voice, text)
        for pair in zip(AGENT, CUSTOMER, strict=True)
        for voice, text in zip(("en-us", "en+f3"), pair, strict=True)
    ]
    path, truth = factory.conversation(lines)
    found = diarize(audio.decode(path, split_channels=False)[0], encoder)
    assert found.speakers == 2
    assert labelled_right([(t.start, t.end, t.speaker) for t in found.turns], truth) >= 0.9


def test_one_voice_is_not_split_in_two(encoder: VoiceEncoder, factory: AudioFactory) -> None:
    path = factory.speech(" ".join(AGENT + CUSTOMER), voice="en-us")
    found = diarize(audio.decode(path, split_channels=False)[0], encoder)
    assert found.speakers == 1
    assert {t.speaker for t in found.turns} == {0}


def test_silence_has_no_speakers(encoder: VoiceEncoder, factory: AudioFactory) -> None:
    found = diarize(audio.decode(factory.silence(5.0), split_channels=False)[0], encoder)
    assert found == Diarization([], 0, 0.0)


def segment(start: float, end: float, text: str) -> Segment:
    words = text.split()
    step = (end - start) / len(words)
    timed = [Word(start + i * step, start + (i + 1) * step, w, 0.9) for i, w in enumerate(words)]
    return Segment(start, end, "unknown", 0, text, timed)


def test_a_segment_spanning_a_change_of_voice_is_cut_between_words() -> None:
    from aica.speech.diarization import Turn

    turns = [Turn(0.0, 2.0, 0), Turn(2.0, 4.0, 1)]
    out = split_segments([segment(0.0, 4.0, "one two three four")], turns)
    assert [(s.speaker, s.text, s.start, s.end) for s in out] == [
        ("agent", "one two", 0.0, 2.0),
        ("customer", "three four", 2.0, 4.0),
    ]
    assert [w.word for w in out[1].words] == ["three", "four"]


@pytest.mark.parametrize(
    ("language", "customer_first", "greeting"),
    [
        ("en", "I have a question about my order.", "Thank you for calling, my name is Anna."),
        ("ru", "Мой заказ не пришёл.", "Спасибо за звонок, меня зовут Анна."),
    ],
)
def test_the_side_that_says_the_greeting_is_named_agent(
    language: str, customer_first: str, greeting: str
) -> None:
    # the customer speaks first (provisionally "agent"), the agent greets second
    segments = [segment(0.0, 2.0, customer_first), segment(2.5, 5.0, greeting)]
    segments[0].speaker, segments[1].speaker = "agent", "customer"
    naming = name_sides(segments, BUILTIN["general"], language)
    assert naming.swap and naming.by == "greeting"
    assert naming.confidence > 0.6


def test_without_a_greeting_the_first_voice_is_the_agent_with_less_confidence() -> None:
    segments = [segment(0.0, 2.0, "Yes go on."), segment(2.5, 5.0, "My order is late.")]
    segments[0].speaker, segments[1].speaker = "agent", "customer"
    naming = name_sides(segments, BUILTIN["general"], "en")
    assert not naming.swap and naming.by == "first_speaker"
    assert naming.confidence == pytest.approx(0.6)
