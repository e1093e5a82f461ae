# ruff: noqa: RUF001  (Russian lines)
"""Benchmark PII redaction: the text engine beside the analyzer, the audio copy beside decoding.

Run from the repository root::

    .venv/bin/python scripts/bench_redaction.py             # 10-minute calls
    .venv/bin/python scripts/bench_redaction.py --minutes 30

Text: the synthetic stereo calls of ``bench_analysis`` (English and Russian, about 1,300
words for 10 minutes), as they are and with a card, a phone and an email read aloud once a
minute; each is redacted (``aica.redaction.redact``) and analysed with the ``general``
profile in turn, so the ratio redaction/analysis is taken under the same load. Audio: a
``--minutes`` stereo WAV of noise at 16 kHz; decoding it (what transcription does first)
against decoding, silencing and writing the redacted copy (``services.redaction``).
CPU time of this process, not wall time: the machine may be shared. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _bench_common import markdown_table
from bench_analysis import synthetic_transcript

from aica.analysis import BUILTIN, analyze
from aica.redaction import Span, redact
from aica.services.redaction import write_silenced
from aica.speech import audio
from aica.transcript import Transcript, Word

PII = {
    "en": "my card is four five three nine one four eight eight zero three four three six four "
    "six seven and my phone is 415-555-2671 email john dot smith at gmail dot com",
    "ru": "номер карты четыре пять три девять один четыре восемь восемь ноль три четыре три "
    "шесть четыре шесть семь телефон +7 916 123-45-67 почта иван собака яндекс точка ру",
}


def with_pii(transcript: Transcript, language: str) -> Transcript:
    """A customer line read with PII in every minute of the call."""
    segments = list(transcript.segments)
    minute = -1
    for i, segment in enumerate(segments):
        if segment.channel == 1 and int(segment.start // 60) > minute:
            minute = int(segment.start // 60)
            step = (segment.end - segment.start) / len(PII[language].split())
            words = [
                Word(segment.start + k * step, segment.start + (k + 0.8) * step, w, 0.9)
                for k, w in enumerate(PII[language].split())
            ]
            segments[i] = dataclasses.replace(segment, text=PII[language], words=words)
    return dataclasses.replace(transcript, segments=segments)


def cpu_ms(action: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Mean CPU milliseconds of ``action`` run for about ``seconds`` of CPU, and the runs."""
    action()  # warm-up: imports, caches
    runs, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        action()
        runs += 1
    return (time.process_time() - started) * 1000 / runs, runs


def text_rows(minutes: float, seconds: float) -> list[list[str]]:
    rows = []
    for language in ("en", "ru"):
        plain = synthetic_transcript(minutes, language=language)
        for label, transcript in (
            ("as scripted", plain),
            ("PII every minute", with_pii(plain, language)),
        ):
            spans = len(redact(transcript).spans)
            redacting, runs = cpu_ms(lambda t=transcript: redact(t), seconds)
            analysing, _ = cpu_ms(lambda t=transcript: analyze(t, BUILTIN["general"]), seconds)
            words = sum(len(s.words) for s in transcript.segments)
            rows.append([
                f"text {language}, {label}", f"{words} words, {spans} spans", str(runs),
                f"{redacting:.1f}", f"{analysing:.1f}", f"{redacting / analysing:.2f}",
            ])  # fmt: skip
    return rows


def audio_rows(minutes: float) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "call.wav", Path(tmp) / "redacted.wav"
        rng = np.random.default_rng(7)
        noise = [(rng.standard_normal(int(minutes * 60 * 16_000)) * 0.1).astype(np.float32)] * 2
        spans = [Span("CARD", m * 60 + 10.0, m * 60 + 18.0, 1) for m in range(int(minutes))]
        write_silenced_source(source, noise)
        started = time.process_time()
        audio.decode(source, split_channels=True)
        decoding = time.process_time() - started
        started = time.process_time()
        write_silenced(source, target, spans)
        redacting = time.process_time() - started
    return [[
        f"audio, {minutes:g} min stereo WAV", f"{len(spans)} spans", "1",
        f"{redacting * 1000:.0f}", f"{decoding * 1000:.0f} (decode)",
        f"{redacting / decoding:.2f}",
    ]]  # fmt: skip


def write_silenced_source(path: Path, channels: list[np.ndarray]) -> None:
    import wave

    pcm = (np.stack(channels, axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm.tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="call length")
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU time a case")
    args = parser.parse_args(argv)
    rows = text_rows(args.minutes, args.seconds) + audio_rows(args.minutes)
    header = ["case", "input", "runs", "redact ms (CPU)", "baseline ms (CPU)", "ratio"]
    print("\n".join(markdown_table(header, rows, align="llrrrr")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
