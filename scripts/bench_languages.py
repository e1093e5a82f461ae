# ruff: noqa: RUF001  (Russian script)
"""Benchmark recognition and scoring per language: scripted English and Russian calls.

Run from the repository root (the multilingual ``base`` model comes with the test extras)::

    .venv/bin/python scripts/bench_languages.py               # base, 5 runs per call
    .venv/bin/python scripts/bench_languages.py --runs 2 --model base

Six calls with known text are spoken by espeak-ng: a good and a bad support call and a stereo
call (agent left, customer right), each in English and in Russian. Each is transcribed
``--runs`` times the way the record job does it (``Speech.for_settings``, language ``auto``
with the project's ``languages`` ``["en", "ru"]``), then scored with the built-in ``general``
profile as the analyze stage does. Per call: WER and CER against the script, the score on the
transcript, the score on the exact script (the analyzer's "oracle": one segment per line,
at the line's time and speaker), and the spread (max - min) of the scores over the runs
(0 when transcription is deterministic). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _bench_common import markdown_table

from aica.analysis import analyze
from aica.analysis.profiles import BUILTIN
from aica.config import Settings
from aica.services.pipeline import Speech
from aica.transcript import Segment, Speaker, Transcript
from tests.audio import SPEECH_RATE, AudioFactory, Turn, read_wav, write_wav

LANGUAGES = ["en", "ru"]
VOICES = {"en": "en-us", "ru": "ru"}
AGENT, CUSTOMER = 0, 1
LINES: dict[str, dict[str, list[tuple[int, str]]]] = {
    "en": {
        "good": [
            (AGENT, "Good morning, thank you for calling customer support. My name is Sarah."),
            (AGENT, "How can I help you today?"),
            (CUSTOMER, "I was charged twice for my order."),
            (AGENT, "I am sorry about that. I will refund the second payment today."),
            (AGENT, "Is there anything else I can help you with?"),
            (CUSTOMER, "No, that is all."),
            (AGENT, "Thank you for calling, have a great day. Goodbye."),
        ],
        "bad": [
            (AGENT, "Yeah, what do you want?"),
            (CUSTOMER, "I was charged twice for my order."),
            (AGENT, "That is not my problem, call the bank."),
            (CUSTOMER, "Can you check it please?"),
            (AGENT, "No. Whatever."),
        ],
    },
    "ru": {
        "good": [
            (AGENT, "Добрый день, спасибо за звонок в службу поддержки. Меня зовут Анна."),
            (AGENT, "Чем могу помочь?"),
            (CUSTOMER, "С меня дважды списали деньги за заказ."),
            (AGENT, "Приношу извинения. Я верну второй платёж сегодня."),
            (AGENT, "Могу ли я ещё чем-нибудь помочь?"),
            (CUSTOMER, "Нет, это всё."),
            (AGENT, "Спасибо за звонок, хорошего дня. До свидания."),
        ],
        "bad": [
            (AGENT, "Ну, чего надо?"),
            (CUSTOMER, "С меня дважды списали деньги за заказ."),
            (AGENT, "Это не моя проблема, звоните в банк."),
            (CUSTOMER, "Можете проверить, пожалуйста?"),
            (AGENT, "Нет. Мне всё равно."),
        ],
    },
}
GAP = 0.6
"""Seconds of silence between lines."""


@dataclass
class Call:
    name: str
    language: str
    path: Path
    turns: list[tuple[Turn, float]]
    """Each line and its length in seconds."""
    stereo: bool


def words(text: str) -> str:
    return " ".join(re.sub(r"[^\w ]+", " ", text.lower().replace("ё", "е")).split())


def build(factory: AudioFactory, root: Path, language: str, kind: str, stereo: bool) -> Call:
    """The call's lines one after another (each on its side for stereo; mixed for mono)."""
    voice = VOICES[language]
    turns: list[tuple[Turn, float]] = []
    at = 0.5
    for channel, text in LINES[language][kind]:
        clip, _ = read_wav(factory.speech(text, voice=voice))
        seconds = len(clip) / SPEECH_RATE
        turns.append((Turn(channel, at, text), seconds))
        at += seconds + GAP
    frames = int((at + 0.5) * SPEECH_RATE)
    signal = np.zeros((frames, 2), np.float32)
    for turn, _ in turns:
        clip, _ = read_wav(factory.speech(turn.text, voice=voice))
        start = int(turn.start * SPEECH_RATE)
        signal[start : start + len(clip), turn.channel] += clip[:, 0]
    name = f"{language}-{'stereo' if stereo else kind}"
    path = write_wav(root / f"{name}.wav", signal if stereo else signal.sum(axis=1, keepdims=True))
    return Call(name, language, path, turns, stereo)


def oracle(call: Call) -> float | None:
    """The score the analyzer gives the exact script."""

    def speaker(turn: Turn) -> Speaker:
        if not call.stereo:
            return "unknown"
        return "agent" if turn.channel == AGENT else "customer"

    segments = [
        Segment(
            start=turn.start,
            end=turn.start + seconds,
            speaker=speaker(turn),
            channel=turn.channel if call.stereo else 0,
            text=turn.text,
        )
        for turn, seconds in call.turns
    ]
    end = segments[-1].end + 0.5
    text = " ".join(s.text for s in segments)
    spoken = Transcript(call.language, end, 2 if call.stereo else 1, text, segments)
    return analyze(spoken, BUILTIN["general"]).quality_score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        factory = AudioFactory(root / "cache")
        speech = Speech.for_settings(Settings(data_dir=root, whisper_model=args.model))
        calls = [
            build(factory, root, language, kind, stereo)
            for language in LANGUAGES
            for kind, stereo in (("good", False), ("bad", False), ("good", True))
        ]
        for call in calls:
            reference = words(" ".join(turn.text for turn, _ in call.turns))
            scores: list[float] = []
            texts: list[str] = []
            for _ in range(args.runs):
                spoken = speech.transcriber.transcribe(
                    call.path, language=None, languages=LANGUAGES, agent_channel=AGENT
                )
                result = analyze(spoken, BUILTIN["general"])
                scores.append(result.quality_score or 0.0)
                texts.append(words(spoken.text))
                detected = spoken.language
            hypothesis = texts[-1]
            rows.append(
                [
                    call.name,
                    detected,
                    f"{jiwer.wer(reference, hypothesis):.2f}",
                    f"{jiwer.cer(reference, hypothesis):.2f}",
                    f"{statistics.median(scores):.1f}",
                    f"{oracle(call) or 0.0:.1f}",
                    f"{max(scores) - min(scores):.1f}",
                    str(len(set(texts))),
                ]
            )
            print(f"done: {call.name}", file=sys.stderr)

    print(f"{args.model}, {args.runs} runs per call, general profile\n")
    header = [
        "call",
        "detected",
        "WER",
        "CER",
        "score (median)",
        "score on the script",
        "score spread",
        "distinct transcripts",
    ]
    print("\n".join(markdown_table(header, rows, "llrrrrrr")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
