# ruff: noqa: RUF001  (Russian script)
"""Benchmark transcription: faster-whisper's defaults vs aica's transcriber, on scripted calls.

Run from the repository root::

    .venv/bin/python scripts/bench_transcribe.py                    # tiny.en English
    .venv/bin/python scripts/bench_transcribe.py --model base --language ru --runs 3

The call is ``--repeat`` copies of a scripted support call spoken by espeak-ng (English or
Russian voice). Each of ``--runs`` rounds transcribes it (a) with ``WhisperModel.transcribe``
as faster-whisper's README calls it (beam 5, its temperature fallback, VAD, word timestamps,
the language forced) and (b) with ``aica.speech.transcribe.Transcriber`` (language forced),
alternating which goes first. Per case: CPU seconds of this process (all threads; less skewed
than wall time on a shared machine), words transcribed, WER and CER against the script, and
how many distinct transcripts the runs produced (1 is deterministic). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jiwer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aica.config import Settings
from aica.speech import audio
from aica.speech.transcribe import Transcriber
from tests.audio import AudioFactory

SCRIPTS = {
    "en": (
        "en-us",
        "Good morning, thank you for calling customer support. My name is Sarah. "
        "I can see two payments for your order, and I will refund the second one today. "
        "The refund takes three to five business days to appear on your statement. "
        "Is there anything else I can help you with? Thank you for your patience. ",
    ),
    "ru": (
        "ru",
        "Добрый день, компания Ромашка, меня зовут Анна, слушаю вас. Чем могу помочь? "
        "Я вижу два платежа по вашему заказу, второй мы вернём сегодня. "
        "Деньги придут в течение трёх рабочих дней. Могу ли я ещё чем-нибудь помочь? "
        "Спасибо за ожидание. ",
    ),
}


def words(text: str) -> str:
    return " ".join(re.sub(r"[^\w ]+", " ", text.lower().replace("ё", "е")).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--language", choices=sorted(SCRIPTS), default="en")
    parser.add_argument("--repeat", type=int, default=4, help="copies of the script (~18 s each)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    voice, script = SCRIPTS[args.language]
    expected = words(script * args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        path = AudioFactory(Path(tmp)).speech(script * args.repeat, voice=voice)
        samples = audio.decode(path, split_channels=True)[0]
        seconds = len(samples) / audio.SAMPLE_RATE
        transcriber = Transcriber(Settings(data_dir=Path(tmp), whisper_model=args.model))
        model = transcriber.load()

        def plain() -> str:
            segments, _ = model.transcribe(
                samples, language=args.language, beam_size=5, vad_filter=True, word_timestamps=True
            )
            return " ".join(s.text for s in segments)

        def ours() -> str:
            return transcriber.transcribe(path, language=args.language).text

        cases: dict[str, Callable[[], str]] = {"faster-whisper defaults": plain, "aica": ours}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        texts: dict[str, list[str]] = {name: [] for name in cases}
        for round_ in range(args.runs):
            order = list(cases) if round_ % 2 == 0 else list(reversed(cases))
            for name in order:
                started = time.process_time()
                texts[name].append(cases[name]())
                cpu[name].append(time.process_time() - started)

    print(f"{args.model}, {args.language}, {seconds:.0f} s of espeak-ng speech, {args.runs} runs\n")
    print(
        "| case | CPU s (median) | x real time | words (script: "
        f"{len(expected.split())}) | WER | CER | distinct transcripts |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in cases:
        median = statistics.median(cpu[name])
        last = words(texts[name][-1])
        print(
            f"| {name} | {median:.1f} | {seconds / median:.0f} | {len(last.split())} "
            f"| {jiwer.wer(expected, last):.2f} | {jiwer.cer(expected, last):.2f} "
            f"| {len(set(texts[name]))} |"
        )


if __name__ == "__main__":
    main()
