"""Benchmark what the dashboard adds to the request path: audio by signed link, static files.

Run from the repository root::

    .venv/bin/python scripts/bench_dashboard.py                 # 10 s a case, 2 rounds
    .venv/bin/python scripts/bench_dashboard.py --duration 20 --rounds 3

One run creates a scratch database (dropped at the end), bootstraps an org, starts
``aica serve`` in a subprocess (pipeline consumers off, rate limiting off, logs at WARNING),
uploads a 60 s WAV and asks for its ``recordAudioUrl``, then load-generates with
``--concurrency`` keep-alive connections, the cases interleaved round by round:

(a) ``GET /api/v1/records/:id/audio`` with ``Authorization`` and ``X-Selected-Org-ID``, a
    64 KiB ``Range`` (what a player asks while seeking), 206 expected;
(b) the same through the signed link (``?ticket=``, no headers): what the dashboard's
    ``<audio>`` element does;
(c) ``GET /js/main.js``, a dashboard file (static);
(d) ``GET /healthz``, the floor (routing and middleware only).

Columns: requests/s, p50/p99 latency (ms), server CPU ms per request (from /proc). b/a is the
price of the link (one token read by id, one membership read, an HMAC) against the bearer
header (one token read by hash, one membership read). A benchmark, not a test: ratios taken
in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from _bench_common import (
    Connection,
    Server,
    add_admin_dsn,
    free_port,
    http_request,
    loadavg,
    log,
    markdown_table,
    open_connections,
    process_cpu,
    scratch,
    wait_ready,
    with_root_on_path,
)

RANGE = 64 * 1024


@dataclass
class Case:
    key: str
    name: str
    requests: list[bytes]
    status: int
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu: float = 0.0
    errors: int = 0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_admin_dsn(parser)
    parser.add_argument("--duration", type=float, default=10, help="seconds a case a round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    return parser.parse_args()


async def prepare(url: str) -> tuple[str, str, str]:
    """An org (its id and owner token) and a project, in a migrated database."""
    from tortoise import Tortoise

    from aica import db
    from aica.models import Project
    from aica.services import orgs

    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        created = await orgs.bootstrap("Bench Org", "owner@bench.example.com")
        project = await Project.create(org_id=created.org.id, name="Bench")
    finally:
        await Tortoise.close_connections()
    return created.org.id, created.token, project.id


def recording(path: Path, seconds: int = 60) -> Path:
    from tests.audio import SPEECH_RATE, write_wav

    t = np.arange(seconds * SPEECH_RATE) / SPEECH_RATE
    return write_wav(path, (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))


def upload(server: Server, headers: dict[str, str], project_id: str, wav: Path) -> tuple[str, str]:
    """The record's id and its signed audio link."""
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
        with wav.open("rb") as file:
            created = client.post(
                "/api/v1/records/upload",
                files={"file": (wav.name, file, "audio/wav")},
                data={"projectId": project_id},
            )
        created.raise_for_status()
        record_id = created.json()["data"]["id"]
        answer = client.post(
            "/graphql",
            json={
                "query": "query ($id: ID!) { recordAudioUrl(id: $id) }",
                "variables": {"id": record_id},
            },
        ).json()
    return record_id, answer["data"]["recordAudioUrl"]


def ranges(path: str, port: int, headers: dict[str, str], size: int) -> list[bytes]:
    """Sixteen different 64 KiB ranges over the file, as a player seeking around would ask."""
    starts = [i * (size - RANGE) // 15 for i in range(16)]
    return [
        http_request("GET", path, port, {**headers, "Range": f"bytes={s}-{s + RANGE - 1}"})
        for s in starts
    ]


async def run_case(conns: list[Connection], case: Case, seconds: float, pid: int) -> None:
    perf = time.perf_counter
    deadline = perf() + seconds

    async def worker(conn: Connection, offset: int) -> None:
        i = offset
        while perf() < deadline:
            started = perf()
            status, _ = await conn.send(case.requests[i % len(case.requests)])
            i += 1
            if status == case.status:
                case.latencies.append(perf() - started)
            else:
                case.errors += 1

    cpu0, start = process_cpu(pid), perf()
    await asyncio.gather(*(worker(c, i) for i, c in enumerate(conns)))
    case.elapsed += perf() - start
    case.server_cpu += process_cpu(pid) - cpu0


async def measure(args: argparse.Namespace, cases: list[Case], server: Server) -> None:
    conns = await open_connections(server.port, args.concurrency)
    for case in cases:  # warm-up: every case must answer as expected before it is timed
        await run_case(conns, case, 1, server.pid)
        if case.errors or not case.latencies:
            raise SystemExit(f"({case.key}) answered wrong during the warm-up")
        case.latencies.clear()
        case.elapsed = case.server_cpu = 0.0
    for r in range(args.rounds):
        log(f"round {r + 1}/{args.rounds} (load average {loadavg()})")
        for case in cases if r % 2 == 0 else list(reversed(cases)):
            await run_case(conns, case, args.duration, server.pid)
    for conn in conns:
        conn.close()


def bench(args: argparse.Namespace) -> list[Case]:
    with scratch(args.admin_dsn, "aica-bench-dashboard-") as run:
        url = asyncio.run(run.create_database())
        org_id, token, project_id = asyncio.run(prepare(url))
        port = free_port()
        env = {
            **os.environ,
            "AICA_DATABASE_URL": url,
            "AICA_DATA_DIR": str(run.work_dir / "data"),
            "AICA_RUN_WORKERS": "0",
            "AICA_RATE_LIMIT_PER_MINUTE": "0",
            "AICA_LOG_LEVEL": "WARNING",
        }
        aica = [sys.executable, "-m", "aica.cli", "serve", "--port", str(port)]
        server = run.start_server("aica", aica, port, with_root_on_path(env))
        wait_ready(server)
        headers = {"Authorization": f"Bearer {token}", "X-Selected-Org-ID": org_id}
        wav = recording(run.work_dir / "call.wav")
        record_id, link = upload(server, headers, project_id, wav)
        size = wav.stat().st_size
        audio_path = f"/api/v1/records/{record_id}/audio"
        cases = [
            Case("a", "audio range, bearer header", ranges(audio_path, port, headers, size), 206),
            Case("b", "audio range, signed link", ranges(link, port, {}, size), 206),
            Case(
                "c", "dashboard file /js/main.js", [http_request("GET", "/js/main.js", port)], 200
            ),
            Case("d", "floor: /healthz", [http_request("GET", "/healthz", port)], 200),
        ]
        asyncio.run(measure(args, cases, server))
    return cases


def report(args: argparse.Namespace, cases: list[Case]) -> None:
    rows = [
        [
            f"({c.key}) {c.name}",
            f"{len(c.latencies) / c.elapsed:.0f}",
            f"{1000 * c.percentile(0.5):.1f}",
            f"{1000 * c.percentile(0.99):.1f}",
            f"{1000 * c.server_cpu / max(1, len(c.latencies)):.2f}",
            str(c.errors),
        ]
        for c in cases
    ]
    header = ["case", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "errors"]
    print(
        f"concurrency {args.concurrency}, {args.rounds} x {args.duration:g} s a case, "
        f"load average {loadavg()}"
    )
    print("\n".join(markdown_table(header, rows, "lrrrrr")))
    by = {c.key: c for c in cases}
    cpu = {k: by[k].server_cpu / max(1, len(by[k].latencies)) for k in by}
    rps = {k: len(by[k].latencies) / by[k].elapsed for k in by}
    print(f"\nb/a throughput {rps['b'] / rps['a']:.2f}, CPU per request {cpu['b'] / cpu['a']:.2f}")


def main() -> int:
    args = parse_args()
    report(args, bench(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
