"""Benchmark mono speaker separation: accuracy and time per minute of audio, wideband and
telephone band.

Run from the repository root::

    .venv/bin/python scripts/bench_diarization.py                 # installs the weights
    .venv/bin/python scripts/bench_diarization.py --data-dir DIR  # DIR/models/speakers has them

The set: one scripted support call (12 lines, about 70 s) spoken by pairs of espeak-ng voices
(a man and a woman, two men, two women), each wideband (22 kHz) and through a telephone band
(sox: 8 kHz, 300-3400 Hz), plus the same lines in one voice. Per file: voices found, the share
of speech time given to the right voice (``tests.audio.labelled_right``), and the CPU and
wall seconds :func:`aica.speech.diarization.diarize` took per minute of audio (decoding
excluded). A benchmark, not a test: the machine may be shared, compare rows of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aica.speech import audio, speaker_model
from aica.speech.diarization import diarize
from scripts._bench_common import loadavg, log, markdown_table
from tests.audio import AudioFactory, labelled_right

AGENT = (
    "Thank you for calling Acme support, my name is Anna, how can I help you today?",
    "I am sorry to hear that. Could you tell me your order number please?",
    "Thank you. I can see the order here, it was shipped on Monday from our warehouse.",
    "I will send a replacement today and you should get it by Friday.",
    "Of course, I will email you the tracking number as soon as it ships.",
    "You are welcome. Is there anything else I can help you with?",
)
CUSTOMER = (
    "Hi, I ordered a blender two weeks ago and it arrived broken.",
    "Sure, it is four five seven one two nine.",
    "Well the box was crushed and the glass jar is cracked all the way down.",
    "That would be great. Can you send me the tracking number too?",
    "Perfect, thank you so much for your help.",
    "No, that is all. Have a nice day.",
)
PAIRS = {
    "man and woman": ("en-us", "en+f3"),
    "two men": ("en+m3", "en+m7"),
    "two women": ("en+f2", "en+f4"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="where models/speakers is installed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        if not speaker_model.installed(data_dir):
            log("installing the speakers model (pip download resemblyzer==0.1.4) ...")
            speaker_model.install(data_dir)
        encoder = speaker_model.load_encoder(data_dir)
        factory = AudioFactory(Path(tmp) / "audio")
        rows, accuracy = [], {False: [], True: []}
        log(f"load average before: {loadavg()}")
        for phone in (False, True):
            cases = [
                (
                    name,
                    [
                        (v, t)
                        for pair in zip(AGENT, CUSTOMER, strict=True)
                        for v, t in zip(voices, pair, strict=True)
                    ],
                )
                for name, voices in PAIRS.items()
            ]
            cases.append(("one voice", [("en-us", t) for t in AGENT + CUSTOMER]))
            for name, lines in cases:
                path, truth = factory.conversation(lines, phone=phone)
                samples = audio.decode(path, split_channels=False)[0]
                minutes = len(samples) / audio.SAMPLE_RATE / 60
                cpu, wall = time.process_time(), time.perf_counter()
                found = diarize(samples, encoder)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                turns = [(t.start, t.end, t.speaker) for t in found.turns]
                right = labelled_right(turns, truth) if name != "one voice" else None
                if right is not None:
                    accuracy[phone].append(right)
                rows.append(
                    [
                        "telephone" if phone else "wideband",
                        name,
                        f"{minutes * 60:.0f}",
                        str(found.speakers),
                        "-" if right is None else f"{100 * right:.1f}%",
                        f"{cpu / minutes:.1f}",
                        f"{wall / minutes:.1f}",
                    ]
                )
                log(f"{rows[-1]}")
        header = [
            "band",
            "voices",
            "audio s",
            "voices found",
            "speech time right",
            "CPU s / audio min",
            "wall s / audio min",
        ]
        print("\n".join(markdown_table(header, rows, "llrrrrr")))
        for phone, values in accuracy.items():
            band = "telephone" if phone else "wideband"
            print(f"\n{band}: mean {100 * statistics.fmean(values):.1f}% of speech time right")
        print(f"\nload average after: {loadavg()}")


if __name__ == "__main__":
    main()
