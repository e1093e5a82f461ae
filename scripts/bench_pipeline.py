"""Benchmark the record pipeline: plain faster-whisper vs the same file through the service.

Run from the repository root::

    .venv/bin/python scripts/bench_pipeline.py                  # 10 min of speech, 400 MiB
    .venv/bin/python scripts/bench_pipeline.py --minutes 5 --threads 2 --batch-sizes 1,4

One run measures, and prints as markdown tables:

(a) plain sequential faster-whisper: ``WhisperModel.transcribe`` (``--model``, CPU int8,
    beam 5, ``--threads`` CTranslate2 threads, VAD, word timestamps, faster-whisper's other
    defaults) on ``--minutes`` of espeak-ng speech with a known script, in a child process of
    its own, so its peak RSS (``ru_maxrss``) is its own. The model is loaded before the
    clock starts.
(b) the same file through the real service: ``aica bootstrap --json`` on a fresh database
    (created on ``--admin-dsn``'s server, dropped at the end, also on errors, Ctrl-C and
    SIGTERM), then ``aica serve`` as a subprocess (in-process pipeline consumers, rate limit
    off, ``AICA_WHISPER_CPU_THREADS`` = ``--threads``, ``AICA_WHISPER_BATCH_SIZE`` =
    ``--batch``, by default the setting's default, data dir in a temp dir), a project made
    through ``POST /api/v1/projects``, then ``POST /api/v1/records/upload`` and
    ``GET /api/v1/records/:id`` polled until ``completed``: audio seconds per wall second from
    the first byte of the upload to the poll that sees ``completed`` (polls every 0.25 s while
    the state is about to change, every 1 s mid-transcription); transcription, analysis and
    indexing included. b/a is issue 11's ratio (aim >= 1.5), and the WER of (b) against the
    script may exceed (a)'s by at most 0.01. Peak RSS of the server process (``VmHWM``, reset
    through ``/proc/<pid>/clear_refs`` before each upload).
(c) upload throughput: a ``--upload-mb`` MiB 16-bit PCM WAV (the speech of (a) tiled, written
    in 1 MiB chunks) streamed to ``POST /api/v1/records/upload`` by a client that streams too
    (the multipart body is a generator with a fixed boundary and a computed Content-Length),
    against a *fresh* ``aica serve`` with ``AICA_RUN_WORKERS=0``: memory the first server freed
    after (b) could otherwise hide a buffering upload, and a consumer would start decoding the
    upload (hours of audio) the moment it is committed, inside the measured window. The
    record is deleted afterwards (``DELETE /api/v1/records/:id``).
(d) aica's ``Transcriber`` alone at each of ``--batch-sizes`` (1 is the plain decoder), each
    in a child process: what chose the default batch size, and (b)'s overhead over it.

(a) and (b) run ``--rounds`` times (default 3) in pairs, in alternating order (ab, ba, ab, ...)
against the same server, each case first waiting for a quiet machine; b/a is the median of the
per-round paired ratios, so load that comes and goes hits both sides alike. "other procs" is
the CPU that processes other than the measured ones used meanwhile (PostgreSQL included), in
cores: on a shared machine it is what skews the wall-clock numbers, and each case first waits
(up to ``--quiet-wait`` s) for the machine to calm down. A benchmark, not a test (DESIGN.md 7).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import httpx
import numpy as np
import psutil
from _bench_common import (
    HOST,
    ROOT,
    CpuWindow,
    PeakRss,
    Scratch,
    Server,
    add_admin_dsn,
    free_port,
    loadavg,
    log,
    markdown_table,
    scratch,
    stop_servers,
    wait_ready,
    with_root_on_path,
)

MIB = 1 << 20
CHUNK = MIB
BOUNDARY = "aica-bench-pipeline-0123456789abcdef"
SPEECH_VERSION = 1
"""Bump when the sentence generator changes, so the cached speech is rebuilt."""

# --------------------------------------------------------------------------------------------
# Speech: distinct espeak-ng sentences, concatenated
# --------------------------------------------------------------------------------------------

NAMES = [
    "Alice", "Bruno", "Carmen", "Daniel", "Elena", "Felix", "Grace", "Henry", "Irene", "Jacob",
    "Karen", "Lucas", "Maria", "Nathan", "Olivia", "Peter", "Rachel", "Samuel", "Teresa",
    "Victor",
]  # fmt: skip
CITIES = [
    "Boston", "Denver", "Chicago", "Seattle", "Phoenix", "Atlanta", "Dallas", "Portland",
    "Miami", "Detroit", "Houston", "Memphis", "Austin", "Nashville", "Oakland", "Tampa",
]  # fmt: skip
ITEMS = [
    "printers", "laptops", "office chairs", "coffee machines", "desk lamps", "keyboards",
    "monitors", "routers", "headsets", "bookshelves", "filing cabinets", "projectors",
    "tablets", "phone chargers", "water filters", "whiteboards",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TEAMS = ["billing", "support", "shipping", "sales", "returns", "security", "training"]
TOPICS = [
    "late deliveries", "broken screens", "missing invoices", "password resets",
    "refund requests", "damaged boxes", "warranty claims", "address changes",
    "duplicate charges", "software updates",
]  # fmt: skip
TEMPLATES = [
    "Fact number {n}. {name} drove from {city} to {city2} with {k} {item} in the truck.",
    "Fact number {n}. On {day} the {team} team in {city} answered {k} calls about {topic}.",
    "Fact number {n}. {name} asked whether the {item} ordered on {day} could reach {city} "
    "before noon.",
    "Fact number {n}. The warehouse in {city} counted {k} {item} and sent half of them to {city2}.",
    "Fact number {n}. {name} from the {team} department wrote a short report on {topic}.",
    "Fact number {n}. Every {day}, {name} and {name2} check the {item} stored in {city}.",
    "Fact number {n}. A customer in {city} waited {k} minutes before {name} solved the "
    "problem with {topic}.",
    "Fact number {n}. The {team} manager promised {name} a discount on {k} new {item}.",
]


def sentences(seed: int) -> Iterator[str]:
    """Endless distinct sentences (each numbered, so none repeats)."""
    rng = random.Random(seed)
    for n in range(1, 100_000):
        name, name2 = rng.sample(NAMES, 2)
        city, city2 = rng.sample(CITIES, 2)
        yield rng.choice(TEMPLATES).format(
            n=n, name=name, name2=name2, city=city, city2=city2, item=rng.choice(ITEMS),
            day=rng.choice(DAYS), team=rng.choice(TEAMS), topic=rng.choice(TOPICS),
            k=rng.randrange(3, 400),
        )  # fmt: skip
    raise RuntimeError("out of sentences")


@dataclass
class Speech:
    path: Path
    seconds: float
    words: list[str]


def build_speech(cache: Path, minutes: float) -> Speech:
    """``minutes`` of speech (whole sentences, 0.3-0.8 s apart), mono 22.05 kHz, cached."""
    from tests.audio import SPEECH_RATE, AudioFactory, read_wav, write_wav

    stem = f"speech-v{SPEECH_VERSION}-{minutes:g}min"
    path, text_path = cache / f"{stem}.wav", cache / f"{stem}.txt"
    if path.exists() and text_path.exists():
        with wave.open(str(path), "rb") as w:
            seconds = w.getnframes() / w.getframerate()
        return Speech(path, seconds, words(text_path.read_text()))
    log(f"building {minutes:g} min of espeak-ng speech into {cache} (once)")
    factory = AudioFactory(cache / "clips")
    rng = random.Random(7)
    target = int(minutes * 60 * SPEECH_RATE)
    pieces: list[np.ndarray[Any, Any]] = [np.zeros(SPEECH_RATE // 2, np.float32)]
    total = len(pieces[0])
    spoken = []
    for text in sentences(seed=SPEECH_VERSION):
        clip = read_wav(factory.speech(text))[0][:, 0]
        gap = np.zeros(int(rng.uniform(0.3, 0.8) * SPEECH_RATE), np.float32)
        pieces += [clip, gap]
        total += len(clip) + len(gap)
        spoken.append(text)
        if total >= target:
            break
    tmp = path.with_suffix(".tmp.wav")
    write_wav(tmp, np.concatenate(pieces))
    text_path.write_text("\n".join(spoken) + "\n")
    tmp.replace(path)
    shutil.rmtree(cache / "clips", ignore_errors=True)
    return Speech(path, total / SPEECH_RATE, words("\n".join(spoken)))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def write_big_wav(speech: Path, target: Path, size: int) -> None:
    """A valid 16-bit PCM WAV of exactly ``size`` bytes: ``speech``'s samples tiled."""
    with wave.open(str(speech), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        pcm = w.readframes(w.getnframes())
    header = 44
    data = size - header
    data -= data % (channels * width)
    with target.open("wb") as out:
        out.write(b"RIFF" + (36 + data).to_bytes(4, "little") + b"WAVE")
        out.write(b"fmt " + (16).to_bytes(4, "little"))
        out.write((1).to_bytes(2, "little") + channels.to_bytes(2, "little"))
        out.write(rate.to_bytes(4, "little") + (rate * channels * width).to_bytes(4, "little"))
        out.write((channels * width).to_bytes(2, "little") + (8 * width).to_bytes(2, "little"))
        out.write(b"data" + data.to_bytes(4, "little"))
        left, at = data, 0
        while left:  # 1 MiB at a time, wrapping around to the start of the speech
            piece = pcm[at : at + min(left, CHUNK)]
            out.write(piece)
            left -= len(piece)
            at = (at + len(piece)) % len(pcm)
    if target.stat().st_size != header + data:
        raise RuntimeError(f"{target} is {target.stat().st_size} bytes, not {header + data}")


# --------------------------------------------------------------------------------------------
# Waiting for a quiet machine
# --------------------------------------------------------------------------------------------


def wait_for_quiet(limit: float, threshold: float = 0.3, window: float = 2.0) -> float:
    """Wait (up to ``limit`` s) until other processes use under ``threshold`` cores."""
    deadline = time.monotonic() + limit
    announced = False
    while True:
        with CpuWindow() as cpu:
            time.sleep(window)
        if cpu.others < threshold or time.monotonic() >= deadline:
            return cpu.others
        if not announced:
            log(f"  other processes use {cpu.others:.2f} cores; waiting up to {limit:g}s")
            announced = True


# --------------------------------------------------------------------------------------------
# (a) and the batch sizes: faster-whisper or aica's transcriber, each in a process of its own
# --------------------------------------------------------------------------------------------


@dataclass
class Direct:
    """One transcription in a child process (its own peak RSS, model load not timed)."""

    kind: str
    """``plain`` (faster-whisper's ``WhisperModel.transcribe``) or ``batch N`` (aica)."""
    wall: float
    cpu: float
    """The child's CPU seconds during the transcription."""
    peak_rss: int
    """The child's ``ru_maxrss`` at the end (model, audio, decoding), bytes."""
    load: float
    words: list[str]
    others: float
    """Cores other processes used meanwhile."""


def run_direct(
    args: argparse.Namespace, speech: Speech, data_dir: Path, batch: int | None
) -> Direct:
    """Transcribe ``speech`` in a fresh process: plain faster-whisper when ``batch`` is None,
    else aica's ``Transcriber`` with ``AICA_WHISPER_BATCH_SIZE=batch``."""
    kind = "plain" if batch is None else f"batch {batch}"
    others = wait_for_quiet(args.quiet_wait)
    log(f"({kind}) transcribing {speech.seconds:.0f}s in a child process (others {others:.2f})")
    command = [
        sys.executable, __file__, "--child", "plain" if batch is None else str(batch),
        "--model", args.model, "--threads", str(args.threads), "--child-audio", str(speech.path),
        "--child-data-dir", str(data_dir),
    ]  # fmt: skip
    children = _children_cpu()
    with CpuWindow() as window:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    children = _children_cpu() - children
    if done.returncode != 0:
        raise RuntimeError(f"({kind}) failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log(
        f"    {result['wall']:.1f}s wall, {speech.seconds / result['wall']:.2f} audio-s per wall-s,"
        f" peak RSS {mib(result['peak_rss'])} MiB"
    )
    busy_others = max(0.0, window.others - children / max(window.wall, 1e-9))  # less the child
    return Direct(
        kind, result["wall"], result["cpu"], result["peak_rss"], result["load"],
        words(result["text"]), busy_others,
    )  # fmt: skip


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child(args: argparse.Namespace) -> int:
    """The child of :func:`run_direct`: load, transcribe, print one JSON line."""
    import resource

    from aica.config import Settings
    from aica.speech.whisper_models import resolve_model

    started = time.perf_counter()
    if args.child == "plain":
        from faster_whisper import WhisperModel

        path = resolve_model(args.model, args.child_data_dir)
        model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=args.threads)

        def transcribe() -> str:
            segments, _ = model.transcribe(
                str(args.child_audio), beam_size=5, word_timestamps=True, vad_filter=True
            )
            return " ".join(s.text for s in segments)  # the generator does the work
    else:
        from aica.speech.transcribe import Transcriber

        settings = Settings(
            data_dir=args.child_data_dir, database_url="postgres://unused",
            whisper_model=args.model, whisper_device="cpu", whisper_compute_type="int8",
            whisper_beam_size=5, whisper_cpu_threads=args.threads,
            whisper_batch_size=int(args.child),
        )  # fmt: skip
        transcriber = Transcriber(settings)
        transcriber.load()

        def transcribe() -> str:
            return transcriber.transcribe(args.child_audio, language=None).text

    load = time.perf_counter() - started
    cpu, started = time.process_time(), time.perf_counter()
    text = transcribe()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_rss": peak, "load": load, "text": text}))
    return 0


# --------------------------------------------------------------------------------------------
# The service in a subprocess
# --------------------------------------------------------------------------------------------


def aica_command() -> list[str]:
    script = Path(sys.executable).parent / "aica"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from aica.cli import app; app()"]


def service_env(
    args: argparse.Namespace, url: str, data_dir: Path, *, workers: bool
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    env.update(
        AICA_DATABASE_URL=url,
        AICA_DATA_DIR=str(data_dir),
        AICA_RATE_LIMIT_PER_MINUTE="0",
        AICA_RUN_WORKERS="1" if workers else "0",
        AICA_WORKER_CONCURRENCY="1",
        AICA_WHISPER_MODEL=args.model,
        AICA_WHISPER_DEVICE="cpu",
        AICA_WHISPER_COMPUTE_TYPE="int8",
        AICA_WHISPER_BEAM_SIZE="5",
        AICA_WHISPER_CPU_THREADS=str(args.threads),
        AICA_WHISPER_BATCH_SIZE=str(args.batch),
        AICA_LOG_LEVEL="INFO",  # the default; also gives us the model-load line
        AICA_LOG_FORMAT="json",
    )
    return with_root_on_path(env)


def start_aica_serve(run: Scratch, name: str, env: dict[str, str]) -> Server:
    port = free_port()
    command = [*aica_command(), "serve", "--host", HOST, "--port", str(port)]
    return run.start_server(name, command, port, env)


def bootstrap(env: dict[str, str]) -> dict[str, str]:
    """``aica bootstrap --json``: migrates the fresh database, makes an org, owner and token."""
    done = subprocess.run(
        [*aica_command(), "bootstrap", "--org-name", "Bench", "--email", "bench@example.com",
         "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"aica bootstrap failed:\n{done.stderr[-3000:]}")
    line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
    created: dict[str, str] = json.loads(line)
    return created


def multipart_body(
    path: Path, fields: dict[str, str], file_name: str, on_sent: Callable[[], None]
) -> tuple[int, Iterator[bytes]]:
    """(Content-Length, chunks) of a multipart/form-data body read from ``path`` 1 MiB at a time.

    ``on_sent`` is called once the last byte has been handed to the client.
    """
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{file_name}"\r\nContent-Type: audio/wav\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    size = path.stat().st_size

    def chunks() -> Iterator[bytes]:
        yield head
        with path.open("rb") as f:
            while piece := f.read(CHUNK):
                yield piece
        yield tail
        on_sent()

    return len(head) + size + len(tail), chunks()


@dataclass
class Upload:
    record_id: str
    started: float
    body_sent: float
    answered: float
    response: dict[str, Any]


def upload(client: httpx.Client, path: Path, project_id: str, headers: dict[str, str]) -> Upload:
    sent: list[float] = []
    length, body = multipart_body(
        path, {"projectId": project_id, "metadata": json.dumps({"agentName": "Bench Agent"})},
        path.name, lambda: sent.append(time.perf_counter()),
    )  # fmt: skip
    request_headers = {
        **headers,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length),
    }
    started = time.perf_counter()
    response = client.post("/api/v1/records/upload", content=body, headers=request_headers)
    answered = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"upload: {response.status_code} {response.text[:500]}")
    data = response.json()["data"]
    return Upload(data["id"], started, sent[0] if sent else answered, answered, data)


@dataclass
class Timeline:
    """When the polls first saw each state, in seconds from the upload's first byte."""

    uploaded: float = 0.0
    processing: float | None = None
    first_progress: float | None = None
    transcribed: float | None = None
    completed: float = 0.0
    polls: int = 0


def poll_until_done(
    client: httpx.Client, record_id: str, headers: dict[str, str], t0: float, limit: float
) -> tuple[Timeline, dict[str, Any]]:
    timeline = Timeline()
    deadline = time.perf_counter() + limit
    while True:
        response = client.get(f"/api/v1/records/{record_id}", headers=headers)
        now = time.perf_counter() - t0
        timeline.polls += 1
        if response.status_code != 200:
            raise RuntimeError(f"GET record: {response.status_code} {response.text[:300]}")
        record = response.json()["data"]
        status, progress = record["status"], record.get("progress") or 0
        if status in ("processing", "completed") and timeline.processing is None:
            timeline.processing = now
        if progress > 0 and timeline.first_progress is None:
            timeline.first_progress = now
        if progress >= 90 and timeline.transcribed is None:
            timeline.transcribed = now
        if status == "completed":
            timeline.completed = now
            return timeline, record
        if status == "failed":
            raise RuntimeError(f"record failed: {record.get('error')}")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"record not completed after {limit:.0f}s: {record}")
        # Fast while a state change is near (queue pickup, the end), slow in between.
        time.sleep(1.0 if 0 < progress < 85 else 0.25)


@dataclass
class ServiceRun:
    """One round of (b)."""

    wall: float
    timeline: Timeline
    cpu: CpuWindow
    rss: PeakRss
    words: list[str]
    model_loaded: bool
    """Whether the server had logged loading the model when the upload started."""


def model_load_seconds(server_log: str) -> float | None:
    for line in server_log.splitlines():
        if "loaded Whisper model" in line:
            match = re.search(r"in ([0-9.]+) s", line)
            if match:
                return float(match.group(1))
    return None


def wait_for_model(server: Server, within: float) -> float | None:
    """Seconds from spawn until the server logged loading the model (None: not in ``within``)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if model_load_seconds(server.log_text()) is not None:
            return time.perf_counter() - server.started
        time.sleep(0.1)
    return None


def run_service(
    args: argparse.Namespace, speech: Speech, server: Server, auth: dict[str, str],
    project_id: str,
) -> ServiceRun:  # fmt: skip
    others = wait_for_quiet(args.quiet_wait)
    log(f"(b) uploading {speech.seconds:.0f}s to the service (others {others:.2f} cores)")
    loaded = model_load_seconds(server.log_text()) is not None
    with (
        httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(600)) as client,
        PeakRss(server.pid) as rss,
        CpuWindow(server.pid) as cpu,
    ):
        sent = upload(client, speech.path, project_id, auth)
        limit = max(900.0, 20 * speech.seconds)
        timeline, _ = poll_until_done(client, sent.record_id, auth, sent.started, limit)
        timeline.uploaded = sent.answered - sent.started
        wall = time.perf_counter() - sent.started
    response = httpx.get(
        f"{server.base_url}/api/v1/records/{sent.record_id}/transcript", headers=auth, timeout=60
    )
    if response.status_code != 200:
        raise RuntimeError(f"GET transcript: {response.status_code} {response.text[:300]}")
    text = transcript_text(response.json()["data"])
    log(
        f"    {wall:.1f}s wall, {speech.seconds / wall:.2f} audio-s per wall-s,"
        f" server CPU {cpu.server:.1f}s"
    )
    return ServiceRun(wall, timeline, cpu, rss, words(text), loaded)


def transcript_text(data: dict[str, Any]) -> str:
    if isinstance(data.get("text"), str):
        return str(data["text"])
    segments = data.get("segments") or []
    return " ".join(str(s.get("text", "")) for s in segments)


@dataclass
class UploadRun:
    size: int
    sent: Upload
    rss: PeakRss
    client_rss: PeakRss
    cpu: CpuWindow
    deleted: int


def run_upload(
    args: argparse.Namespace, big: Path, server: Server, auth: dict[str, str], project_id: str
) -> UploadRun:
    with httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(600)) as client:
        client.get("/api/v1/records", headers=auth)  # warm the REST/GraphQL path
        others = wait_for_quiet(args.quiet_wait)
        size = big.stat().st_size
        log(f"(c) uploading {size / MIB:.0f} MiB (others {others:.2f} cores)")
        with (
            PeakRss(server.pid) as rss,
            PeakRss(os.getpid()) as client_rss,
            CpuWindow(server.pid) as cpu,
        ):
            sent = upload(client, big, project_id, auth)
        wall = sent.answered - sent.started
        log(f"    {wall:.1f}s, {size / MIB / wall:.0f} MiB/s")
        deleted = client.delete(f"/api/v1/records/{sent.record_id}", headers=auth).status_code
    return UploadRun(size, sent, rss, client_rss, cpu, deleted)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def mib(n: float) -> str:
    return f"{n / MIB:.0f}"


@dataclass
class Results:
    speech: Speech
    ready_seconds: float
    """``aica serve`` spawn to /readyz 200."""
    model_ready: float | None
    """``aica serve`` spawn to its "loaded Whisper model" log line, if it preloads."""
    server_load: float | None
    """The load time the server logged."""
    direct: list[Direct] = field(default_factory=list)
    service: list[ServiceRun] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    batches: list[Direct] = field(default_factory=list)
    upload: UploadRun | None = None
    upload_error: str | None = None


def spread(values: list[float], digits: int = 2) -> str:
    """``median (min-max)``, or the one value."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def wer(script: list[str], heard: list[str]) -> float:
    import jiwer

    return float(jiwer.wer(" ".join(script), " ".join(heard)))


def report(args: argparse.Namespace, res: Results) -> str:
    import ctranslate2
    import faster_whisper

    speech, audio = res.speech, res.speech.seconds
    a_walls = [d.wall for d in res.direct]
    b_walls = [s.wall for s in res.service]
    n = len(res.direct)
    a_wer = median(wer(speech.words, d.words) for d in res.direct)
    b_wer = median(wer(speech.words, s.words) for s in res.service)
    b_peak = max(s.rss.peak for s in res.service)
    rows = [
        [
            "(a) plain faster-whisper: `WhisperModel.transcribe`, VAD, word timestamps",
            spread(a_walls), spread([audio / w for w in a_walls]),
            spread([d.cpu for d in res.direct], 1), f"{a_wer:.3f}",
            f"{mib(max(d.peak_rss for d in res.direct))} (its process, model included)",
        ],
        [
            f"(b) service, AICA_WHISPER_BATCH_SIZE={args.batch}: POST upload -> GET until"
            " completed",
            spread(b_walls), spread([audio / w for w in b_walls]),
            spread([s.cpu.server for s in res.service], 1), f"{b_wer:.3f}",
            f"{mib(b_peak)} (server: {mib(res.service[0].rss.before)} before the upload)",
        ],
    ]  # fmt: skip
    header = [
        "case", f"wall s, median (min-max) of {n}", "audio-s per wall-s", "CPU s",
        "WER vs the script", "peak RSS MiB",
    ]  # fmt: skip
    ratios = [a.wall / b.wall for a, b in zip(res.direct, res.service, strict=True)]
    ratio = median(ratios)
    lines = [
        *markdown_table(header, rows, "lrrrrl"),
        "",
        f"- **b/a = {ratio:.2f}** audio-s per wall-s (median of {n} paired rounds: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f"; aim >= 1.5: {'met' if ratio >= 1.5 else 'NOT met'}). WER b - a ="
        f" {b_wer - a_wer:+.3f} (aim <= +0.01: {'met' if b_wer <= a_wer + 0.01 else 'NOT met'}).",
    ]
    for i, (a, b, order) in enumerate(zip(res.direct, res.service, res.orders, strict=True)):
        t = b.timeline
        lines.append(
            f"- round {i + 1} ({' then '.join(order)}): (a) {a.wall:.2f} s; (b) {b.wall:.2f} s:"
            f" 201 at {t.uploaded:.2f} s, processing seen {_at(t.processing)}, first progress"
            f" > 0 {_at(t.first_progress)}, progress >= 90 {_at(t.transcribed)}, completed"
            f" {t.completed:.2f} s ({t.polls} polls); other procs a {a.others:.2f}, b"
            f" {b.cpu.others:.2f} cores; model loaded before the upload:"
            f" {'yes' if b.model_loaded else 'NO'}."
        )
    if res.batches:
        plain = median(audio / w for w in a_walls)
        brows = [
            [
                d.kind.removeprefix("batch "),
                "plain (one window at a time)" if int(d.kind.split()[1]) <= 1 else "batched",
                f"{d.wall:.1f}", f"{audio / d.wall:.2f}", f"{audio / d.wall / plain:.2f}",
                f"{d.cpu:.1f}", f"{wer(speech.words, d.words):.3f}", mib(d.peak_rss),
                f"{d.others:.2f}",
            ]
            for d in res.batches
        ]  # fmt: skip
        lines += [
            "",
            "(d) aica's `Transcriber` alone (language detection, VAD, gap re-decoding included),"
            " one process per batch size, one run each:",
            "",
            *markdown_table(
                [
                    "AICA_WHISPER_BATCH_SIZE",
                    "decoder",
                    "wall s",
                    "audio-s per wall-s",
                    "vs (a)",
                    "CPU s",
                    "WER",
                    "peak RSS MiB",
                    "other procs, cores",
                ],
                brows,
                "llrrrrrrr",
            ),
            "",
        ]
    c = res.upload
    if c is not None:
        wall = c.sent.answered - c.sent.started
        lines += [
            "",
            f"- (c) POST /api/v1/records/upload, a streamed {c.size / MIB:.0f} MiB WAV: {wall:.2f}"
            f" s, {c.size / MIB / wall:.0f} MiB/s; server peak RSS {mib(c.rss.peak)} MiB"
            f" ({mib(c.rss.before)} before, {'+' if c.rss.peak >= c.rss.before else ''}"
            f"{mib(c.rss.peak - c.rss.before)}); client {mib(c.client_rss.before)} ->"
            f" +{mib(c.client_rss.peak - c.client_rss.before)} MiB. DELETE -> {c.deleted}."
            " Fresh server with AICA_RUN_WORKERS=0 (see the script's doc).",
        ]
    if res.upload_error:
        lines.append(f"- (c) FAILED: {res.upload_error.splitlines()[0][:300]}")
    preload = (
        f"logged {res.model_ready:.1f} s after spawn, before any job"
        if res.model_ready is not None
        else "not loaded at start-up: the first job paid for it"
    )
    lines.append(
        f"- Model load (outside every time above): in (a) {median(d.load for d in res.direct):.2f}"
        f" s; in the server {_s(res.server_load)}, {preload}. `aica serve` spawn to /readyz 200:"
        f" {res.ready_seconds:.1f} s."
    )
    busiest = max(
        [d.others for d in res.direct + res.batches]
        + [s.cpu.others for s in res.service]
        + ([c.cpu.others] if c else [])
    )
    if busiest > 0.2:
        lines.append(
            f"- WARNING: other processes kept up to {busiest:.2f} of {os.cpu_count()} cores busy"
            " during a case; wall-clock numbers are skewed (paired ratios less so)."
        )
    lines += [
        "",
        f"Machine: {os.cpu_count()} cores ({_cpu_name()}),"
        f" {psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}; load average before the run {args.loadavg}.",
        f"Whisper: model {args.model}, CPU int8, beam 5, {args.threads} CTranslate2 threads;"
        f" faster-whisper {faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}."
        f" Speech: espeak-ng, {audio / 60:.1f} min, {len(speech.words)} words, mono 22.05 kHz,"
        f" {speech.path.stat().st_size / MIB:.1f} MiB WAV.",
    ]
    return "\n".join(lines)


def _at(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _s(value: float | None) -> str:
    return "n/a (no log line)" if value is None else f"{value:.2f} s"


def _cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of speech")
    parser.add_argument("--upload-mb", type=int, default=400, help="MiB of WAV for (c); 0 skips")
    parser.add_argument("--threads", type=int, default=2, help="CTranslate2 CPU threads")
    parser.add_argument("--model", default="tiny.en", help="AICA_WHISPER_MODEL")
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="the service's AICA_WHISPER_BATCH_SIZE (default: its default)",
    )
    parser.add_argument(
        "--batch-sizes", default="1,2,4,8",
        help="batch sizes to time aica's transcriber at, comma-separated ('' skips)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=3, help="(a)/(b) pairs, alternating order (default 3)"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=60.0,
        help="seconds each case may wait for other processes to go under 0.3 cores",
    )  # fmt: skip
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "aica-bench-cache",
        help="where the generated speech is kept between runs",
    )
    add_admin_dsn(parser)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # run_direct's child process
    parser.add_argument("--child-audio", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batch is None:
        from aica.config import Settings

        args.batch = Settings.model_fields["whisper_batch_size"].default
    if args.minutes <= 0 or args.threads < 1 or args.rounds < 1 or args.upload_mb < 0:
        parser.error("--minutes, --threads, --rounds must be positive, --upload-mb not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    import asyncio

    args = parse_args(argv)
    if args.child:
        return child(args)
    args.loadavg = loadavg()
    with scratch(args.admin_dsn, prefix="aica-bench-pipeline-") as run:
        try:
            args.cache_dir.mkdir(parents=True, exist_ok=True)
            speech = build_speech(args.cache_dir, args.minutes)
            log(f"speech: {speech.path} ({speech.seconds:.1f}s, {len(speech.words)} words)")

            direct_dir = run.work_dir / "direct"
            url = asyncio.run(run.create_database())
            env = service_env(args, url, run.work_dir / "data", workers=True)
            creds = bootstrap(env)
            auth = {
                "Authorization": f"Bearer {creds['token']}",
                "X-Selected-Org-ID": creds["orgId"],
            }

            server = start_aica_serve(run, "serve", env)
            ready = wait_ready(server)
            model_ready = wait_for_model(server, within=30)
            log(
                f"aica serve ready in {ready:.1f}s (pid {server.pid});"
                f" model logged at {model_ready}"
            )
            res = Results(speech, ready, model_ready, model_load_seconds(server.log_text()))
            response = httpx.post(
                f"{server.base_url}/api/v1/projects",
                json={"name": "Bench"},
                headers=auth,
                timeout=30,
            )
            if response.status_code != 201:
                raise RuntimeError(f"create project: {response.status_code} {response.text[:300]}")
            project_id = response.json()["data"]["id"]

            for round_ in range(args.rounds):
                order = "ab" if round_ % 2 == 0 else "ba"  # alternate, so drift hits both alike
                log(f"round {round_ + 1}/{args.rounds}")
                res.orders.append(order)
                for case in order:
                    if case == "a":
                        res.direct.append(run_direct(args, speech, direct_dir, None))
                    else:
                        res.service.append(run_service(args, speech, server, auth, project_id))
            res.server_load = model_load_seconds(server.log_text())
            stop_servers([server])
            for size in filter(None, args.batch_sizes.split(",")):
                res.batches.append(run_direct(args, speech, direct_dir, int(size)))

            if args.upload_mb:
                big = run.work_dir / f"upload-{args.upload_mb}mib.wav"
                write_big_wav(speech.path, big, args.upload_mb * MIB)
                env_c = service_env(args, url, run.work_dir / "data", workers=False)
                server_c = start_aica_serve(run, "serve-upload", env_c)
                try:  # (a) and (b) are reported even if (c) fails
                    wait_ready(server_c)
                    res.upload = run_upload(args, big, server_c, auth, project_id)
                except (RuntimeError, httpx.HTTPError) as exc:
                    res.upload_error = f"{type(exc).__name__}: {exc}"
                    log(f"(c) failed: {exc}\n--- server log tail ---\n{server_c.log_tail()}")
                big.unlink()
                stop_servers([server_c])
            print(report(args, res), flush=True)
            return 0
        except RuntimeError as exc:
            log(f"failed: {exc}")
            for server in run.servers:
                log(f"--- {server.name} log tail ---\n{server.log_tail()}")
            return 1


if __name__ == "__main__":
    sys.exit(main())
