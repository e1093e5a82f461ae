"""Benchmark the records list: GraphQL vs the REST shim vs a bare Starlette + asyncpg floor.

Run from the repository root::

    .venv/bin/python scripts/bench_api.py                   # 10,000 records, 10 s a case
    .venv/bin/python scripts/bench_api.py --duration 30 --rounds 3
    .venv/bin/python scripts/bench_api.py --profile /tmp/prof   # py-spy stacks per case

One run:

1. creates a fresh database on the PostgreSQL of ``--admin-dsn`` (dropped at the end, also on
   Ctrl-C or SIGTERM), migrates it, bootstraps an org with 5 projects and bulk-loads
   ``--records`` records spread over them;
2. starts the real service in a subprocess: uvicorn, 1 worker, uvloop + httptools, the app
   from ``aica.app.create_app`` with rate limiting off and logging configured at WARNING as
   ``aica serve`` does (the per-request access log is INFO, so it is not written); pipeline
   consumers off (an API process of the scale-out mode) unless ``--with-workers``;
3. starts the floor in another subprocess: a minimal Starlette + asyncpg app (1 uvicorn
   worker) that answers the same 100 rows, with the REST list's columns and formatting plus
   the project's id and name (one JOIN), and the total, as JSON;
4. load-generates against each case in turn from this process with ``--concurrency``
   keep-alive connections, using a small raw HTTP/1.1 client so that the generator takes as
   little as possible of the CPU it shares with the servers. Each case starts with a warm-up
   in which every response is parsed and checked (status 200, 100 items, the right total and
   page) and the rows are compared with the floor's; during the measurement every status is
   checked and the last body of each connection is parsed again;
5. prints one markdown table and the ratios.

Cases (same concurrency, same database, one run):

(a) ``POST /graphql`` ``records(pageSize: 100) { items { id projectId type status duration
    qualityScore agentName customerPhone createdAt completedAt project { id name } } total
    page pageSize }``
(b) ``GET /api/v1/records?pageSize=100``, the REST shim (its stored ``ListRecords`` operation
    selects the same item fields but not ``project``);
(c) the floor;
(d) the REST shim's own ``ListRecords`` document posted to ``/graphql`` (``pageSize: 100``):
    b/d is the cost of the shim alone, b/a mixes in the ``project`` field.

Columns: requests/s, p50 and p99 latency (ms), non-200 or broken responses, and CPU
milliseconds per request spent by the server process, by its PostgreSQL backends and by the
load generator, read from /proc (Linux). The last column shows how many cores other processes
kept busy meanwhile: the load generator, the server and PostgreSQL already share the machine,
and anything else running skews requests/s and latency much more than CPU per request.
A benchmark, not a test (DESIGN.md section 7): it prints ratios measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _bench_common import (
    HOST,
    Connection,
    ProtocolError,
    Scratch,
    Server,
    add_admin_dsn,
    die_with_parent,
    free_port,
    http_request,
    loadavg,
    log,
    machine_busy,
    markdown_table,
    open_connections,
    process_cpu,
    scratch,
    wait_ready,
    with_root_on_path,
)

GRAPHQL_QUERY = """query BenchRecords {
  records(pageSize: 100) {
    items {
      id projectId type status duration qualityScore agentName customerPhone
      createdAt completedAt project { id name }
    }
    total page pageSize
  }
}"""
REST_PATH = "/api/v1/records?pageSize=100"
FLOOR_PATH = "/records"
PAGE_SIZE = 100
CASES = "abcd"
CPU_AIMS = {"a": 3.0, "b": 2.5}
"""Server CPU per request, as a multiple of the floor's, that issue 11 aims at."""
PROFILE_TOP = 8

AGENTS = [
    "Alice Carter", "Bob Novak", "Chen Wei", "Dmitri Orlov", "Eva Lind",
    "Farid Haddad", "Grace Kim", "Hugo Silva", "Irina Petrova", "Jonas Berg",
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# The floor: what the same page costs with nothing but Starlette, asyncpg and json.
# --------------------------------------------------------------------------------------------

FLOOR_COUNT = "SELECT count(*) FROM records WHERE org_id = $1"
FLOOR_PAGE = """
SELECT r.id, r.project_id, r.type, r.status, r.duration, r.quality_score, r.agent_name,
       r.customer_phone, r.created_at, r.completed_at, p.name AS project_name
FROM records r JOIN projects p ON p.id = r.project_id
WHERE r.org_id = $1
ORDER BY r.created_at DESC, r.id DESC
LIMIT $2
"""


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def _mask(phone: str | None) -> str | None:
    """The list's masking (``+1***4567``), restated so that the floor imports nothing of aica."""
    if not phone:
        return phone
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 6:
        return "***"
    lead = "+" if phone.strip().startswith("+") else ""
    return f"{lead}{digits[0]}***{''.join(digits[-4:])}"


def floor_app(database_url: str, org_id: str) -> Any:
    import asyncpg
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> Any:
        state["pool"] = await asyncpg.create_pool(database_url, min_size=1, max_size=20)
        try:
            yield
        finally:
            await state["pool"].close()

    async def records(_: Request) -> JSONResponse:
        async with state["pool"].acquire() as con:
            total = await con.fetchval(FLOOR_COUNT, org_id)
            rows = await con.fetch(FLOOR_PAGE, org_id, PAGE_SIZE)
        items = [
            {
                "id": r["id"],
                "projectId": r["project_id"],
                "type": r["type"],
                "status": r["status"],
                "duration": _round(r["duration"]),
                "qualityScore": _round(r["quality_score"]),
                "agentName": r["agent_name"],
                "customerPhone": _mask(r["customer_phone"]),
                "createdAt": _iso(r["created_at"]),
                "completedAt": _iso(r["completed_at"]),
                "project": {"id": r["project_id"], "name": r["project_name"]},
            }
            for r in rows
        ]
        meta = {"page": 1, "pageSize": PAGE_SIZE, "total": total}
        return JSONResponse({"data": items, "meta": meta})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route(FLOOR_PATH, records), Route("/healthz", healthz)], lifespan=lifespan
    )


def aica_app(database_url: str, data_dir: str, workers: bool) -> Any:
    """The service as ``aica serve`` builds it, with rate limiting off and logs at WARNING.

    Pipeline consumers are off unless ``--with-workers``: this measures an API process of the
    scale-out deployment (``AICA_RUN_WORKERS=0``), and there are no jobs to run anyway.
    """
    from aica import db
    from aica.app import create_app
    from aica.config import Settings
    from aica.observability import configure_logging

    settings = Settings(
        database_url=database_url,
        data_dir=Path(data_dir),
        redis_url=None,
        rate_limit_per_minute=0,
        log_level="WARNING",
        log_format="json",
        run_workers=workers,
    )
    configure_logging(settings.log_level, settings.log_format)  # the request log is INFO
    return create_app(settings, db.database_url(settings))


def serve(args: argparse.Namespace) -> None:
    """Subprocess entry point: one uvicorn worker serving ``aica`` or ``floor``."""
    import uvicorn

    if args.serve == "aica":
        app = aica_app(args.database_url, args.data_dir, args.with_workers)
    else:
        app = floor_app(args.database_url, args.org_id)
    uvicorn.run(
        app,
        host=HOST,
        port=args.port,
        workers=None,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
    )


# --------------------------------------------------------------------------------------------
# Fixture: a fresh database with an org, projects and records.
# --------------------------------------------------------------------------------------------


@dataclass
class Fixture:
    url: str
    org_id: str
    token: str
    project_names: dict[str, str]
    records: int


def fake_records(
    org_id: str, project_ids: list[str], count: int, rng: random.Random
) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    rows = []
    for i in range(count):
        created = now - timedelta(seconds=rng.randrange(90 * 24 * 3600), microseconds=i)
        roll = rng.random()
        status = (
            "completed" if roll < 0.85 else "failed" if roll < 0.9
            else "processing" if roll < 0.95 else "pending"
        )  # fmt: skip
        done = status == "completed"
        duration = rng.uniform(20, 900) if status != "pending" else None
        rows.append(
            {
                "org_id": org_id,
                "project_id": project_ids[i % len(project_ids)],
                "status": status,
                "progress": 100 if done else 0,
                "error": "Audio could not be decoded" if status == "failed" else None,
                "duration": duration,
                "quality_score": rng.uniform(35, 100) if done else None,
                "agent_name": rng.choice(AGENTS),
                "customer_phone": f"+1555{rng.randrange(10**7):07d}",
                "file_name": f"call-{i:06d}.wav",
                "format": "wav",
                "size": rng.randrange(200_000, 20_000_000),
                "channels": 2,
                "language": "en",
                "metadata": {"campaign": f"c{i % 7}"},
                "created_at": created,
                "completed_at": created + timedelta(seconds=(duration or 0) + 30) if done else None,
            }
        )
    return rows


async def prepare(run: Scratch, n_records: int, n_projects: int, seed: int) -> Fixture:
    import asyncpg
    from tortoise import Tortoise

    from aica import db
    from aica.models import Project, Record
    from aica.services import orgs

    url = await run.create_database()
    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        created = await orgs.bootstrap("Bench Org", "owner@bench.example.com")
        names = {}
        for i in range(n_projects):  # the model, not the service: nothing to validate here
            project = await Project.create(org_id=created.org.id, name=f"Bench project {i + 1}")
            names[project.id] = project.name
        rows = fake_records(created.org.id, list(names), n_records, random.Random(seed))
        await Record.bulk_create([Record(**row) for row in rows], batch_size=1000)
    finally:
        await Tortoise.close_connections()
    con = await asyncpg.connect(url)
    try:
        loaded, stamps = await con.fetchrow(
            "SELECT count(*), count(DISTINCT created_at) FROM records"
        )
        if loaded != n_records or stamps < n_records * 0.99:
            raise RuntimeError(f"loaded {loaded} records with {stamps} distinct created_at")
        await con.execute("VACUUM ANALYZE")  # steady state: statistics and visibility map
    finally:
        await con.close()
    return Fixture(url, created.org.id, created.token, names, n_records)


# --------------------------------------------------------------------------------------------
# Subprocesses
# --------------------------------------------------------------------------------------------


def start_aica_or_floor(run: Scratch, mode: str, fx: Fixture, *, workers: bool = False) -> Server:
    """This file again with ``--serve``: uvicorn as configured in :func:`serve`."""
    port = free_port()
    command = [
        sys.executable, str(Path(__file__).resolve()), "--serve", mode,
        "--port", str(port), "--database-url", fx.url, "--org-id", fx.org_id,
        "--data-dir", str(run.work_dir / "data"), *(["--with-workers"] if workers else []),
    ]  # fmt: skip
    env = {**os.environ, "AICA_LOG_LEVEL": "WARNING", "AICA_RATE_LIMIT_PER_MINUTE": "0"}
    return run.start_server(mode, command, port, with_root_on_path(env))


# --------------------------------------------------------------------------------------------
# Cases, checks and measurement
# --------------------------------------------------------------------------------------------


class WrongAnswer(Exception):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise WrongAnswer(message)


def check_graphql(body: dict[str, Any], fx: Fixture) -> list[dict[str, Any]]:
    _expect(not body.get("errors"), f"GraphQL errors: {body.get('errors')}")
    page = body["data"]["records"]
    _expect(len(page["items"]) == PAGE_SIZE, f"{len(page['items'])} items")
    _expect(page["total"] == fx.records, f"total {page['total']} != {fx.records}")
    _expect((page["page"], page["pageSize"]) == (1, PAGE_SIZE), "page/pageSize")
    for item in page["items"]:
        if "project" not in item:
            continue
        project = item["project"]
        _expect(project is not None and project["id"] == item["projectId"], "project id")
        _expect(fx.project_names.get(project["id"]) == project["name"], "project name")
    items: list[dict[str, Any]] = page["items"]
    return items


def check_list(body: dict[str, Any], fx: Fixture) -> list[dict[str, Any]]:
    _expect("error" not in body, f"error: {body.get('error')}")
    _expect(len(body["data"]) == PAGE_SIZE, f"{len(body['data'])} items")
    meta = {"page": 1, "pageSize": PAGE_SIZE, "total": fx.records}
    _expect(body["meta"] == meta, f"meta {body['meta']} != {meta}")
    items: list[dict[str, Any]] = body["data"]
    return items


@dataclass
class Case:
    key: str
    label: str
    port: int
    request: bytes
    check: Callable[[dict[str, Any], Fixture], list[dict[str, Any]]]
    pid: int


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0
    db_cpu: float = 0.0
    client_cpu: float = 0.0
    busy: float = 0.0
    """Machine CPU busy, core-seconds."""
    wall: float = 0.0

    def add(self, other: Result) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.server_cpu += other.server_cpu
        self.db_cpu += other.db_cpu
        self.client_cpu += other.client_cpu
        self.busy += other.busy
        self.wall += other.wall

    @property
    def others(self) -> float:
        """Cores busy with anything but this benchmark (other users' work skews the numbers)."""
        if not self.wall:
            return math.nan
        ours = self.server_cpu + self.db_cpu + self.client_cpu
        return max(0.0, self.busy - ours) / self.wall

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    def per_request_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.count if self.count else math.nan


async def backend_pids(admin_dsn: str, database: str) -> list[int]:
    import asyncpg

    con = await asyncpg.connect(admin_dsn)
    try:
        rows = await con.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await con.close()
    return [r["pid"] for r in rows]


async def verify(conns: list[Connection], case: Case, fx: Fixture, seconds: float) -> Any:
    """Warm-up: every response is parsed and checked. Returns the rows of the first one."""
    first: list[Any] = []
    deadline = time.perf_counter() + seconds

    async def worker(conn: Connection) -> int:
        n = 0
        while True:
            status, body = await conn.send(case.request)
            if status != 200:
                raise WrongAnswer(f"({case.key}) status {status}: {body[:300]!r}")
            try:
                items = case.check(json.loads(body), fx)
            except (WrongAnswer, KeyError, TypeError, ValueError) as exc:
                raise WrongAnswer(f"({case.key}) wrong answer: {exc!r}: {body[:300]!r}") from exc
            if not first:
                first.append(items)
            n += 1
            if time.perf_counter() >= deadline:
                return n

    await asyncio.gather(*(worker(c) for c in conns))
    return first[0]


async def measure(
    conns: list[Connection], case: Case, fx: Fixture, seconds: float, db_pids: list[int]
) -> Result:
    result = Result()
    last: list[bytes] = []
    request = case.request
    perf = time.perf_counter

    async def worker(i: int) -> None:
        body = b""
        latencies = result.latencies
        while True:
            started = perf()
            if started >= deadline:
                break
            try:
                status, body = await conns[i].send(request)
            except (OSError, asyncio.IncompleteReadError, ProtocolError, ValueError):
                result.errors += 1  # counted, and a fresh connection carries on
                conns[i].close()
                conns[i] = await Connection.open(conns[i].port)
                continue
            if status == 200:
                latencies.append(perf() - started)
            else:
                result.errors += 1
        last.append(body)

    server0 = process_cpu(case.pid)
    db0 = sum(process_cpu(p) for p in db_pids)
    busy0 = machine_busy()
    client0 = time.process_time()
    start = perf()
    deadline = start + seconds
    await asyncio.gather(*(worker(i) for i in range(len(conns))))
    result.elapsed = perf() - start
    result.wall = result.elapsed
    result.client_cpu = time.process_time() - client0
    result.busy = machine_busy() - busy0
    result.db_cpu = sum(process_cpu(p) for p in db_pids) - db0
    result.server_cpu = process_cpu(case.pid) - server0
    for body in last:  # a spot check after the run, too
        if body:
            case.check(json.loads(body), fx)
    return result


def start_profiler(
    args: argparse.Namespace, case: Case, round_: int
) -> subprocess.Popen[bytes] | None:
    """``--profile DIR``: py-spy samples the server while it is measured (it costs CPU too)."""
    if not args.profile:
        return None
    py_spy = find_py_spy()
    assert py_spy is not None  # checked with the arguments
    out = Path(args.profile) / f"{case.key}-round{round_ + 1}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(case.pid), "--rate", "250", "--format", "raw",
         "--duration", str(math.ceil(args.duration)), "--output", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )  # fmt: skip


def profile_summary(directory: str, cases: list[Case]) -> list[str]:
    """Where each server's CPU went, from the stacks ``--profile`` collected: the share of
    samples spent in each stage of a request (callees included) and the functions that used
    the most CPU themselves."""
    lines = ["", "Profile (py-spy samples of each server while it was measured):"]
    for case in cases:
        stages = dict.fromkeys(STAGES, 0)
        own: dict[str, int] = {}
        total = 0
        for path in sorted(Path(directory).glob(f"{case.key}-round*.txt")):
            for line in path.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                frames = [f.split(" (", 1)[0] for f in stack.split(";")]
                samples = int(count)
                total += samples
                own[frames[-1]] = own.get(frames[-1], 0) + samples
                for stage, names in STAGES.items():
                    if names.intersection(frames):
                        stages[stage] += samples
        if not total:
            continue
        share = {k: f"{100 * n / total:.0f}%" for k, n in stages.items() if n}
        top = sorted(own.items(), key=lambda item: -item[1])[:PROFILE_TOP]
        lines += [
            f"- ({case.key}) {case.label}, {total} samples; by stage: "
            + ", ".join(f"{stage} {pct}" for stage, pct in share.items()),
            "  most CPU in the function itself: "
            + ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in top),
        ]
    return lines


STAGES: dict[str, set[str]] = {
    "authentication": {"grant", "authenticate", "actor_for", "Context.actor"},
    "parse + validate + limits": {"Schema._prepare_operation_async", "QueryCost.on_execute",
                                  "InputGuard.on_execute", "DocumentBudget.on_validate"},
    "list query (SQL + rows)": {"list_records"},
    "total (counters)": {"count_records"},
    "related objects (prefetch, DataLoaders)": {"prefetch", "dispatch_batch"},
    "rows -> GraphQL types": {"Paginated.of", "Record.from_row", "Project.from_row"},
    "GraphQL completion of the page": {"Executor.complete_list_value",
                                       "PlainFieldExecutor.complete_list_value"},
    "JSON encoding": {"GraphQLView.encode_json", "BaseView.encode_json", "dumps"},
    "asyncpg fetch": {"Connection.fetch", "Connection.fetchval"},
}  # fmt: skip
"""Functions that mark a stage of a request in the stacks (exact names, class-qualified)."""


def find_py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def finish_profiler(profiler: subprocess.Popen[bytes]) -> None:
    try:
        profiler.wait(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait()


def same_rows(answers: dict[str, list[dict[str, Any]]]) -> None:
    """All cases answer the floor's rows ((a) with the project, the others without)."""
    floor_rows = answers.get("c")
    if floor_rows is None:
        return
    for key, rows in answers.items():
        if key != "c":
            want = floor_rows if key == "a" else strip_project(floor_rows)
            compare(f"({key}) vs (c) floor", rows, want)


def strip_project(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "project"} for item in items]


def compare(name: str, got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    if got == want:
        return
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            raise WrongAnswer(f"{name}: row {i} differs:\n  got  {g}\n  want {w}")
    raise WrongAnswer(f"{name}: {len(got)} rows, expected {len(want)}")


async def bench(
    args: argparse.Namespace, fx: Fixture, cases: list[Case], database: str
) -> dict[str, Result]:
    results = {case.key: Result() for case in cases}
    answers: dict[str, list[dict[str, Any]]] = {}
    for round_ in range(args.rounds):
        for case in cases:
            log(f"round {round_ + 1}/{args.rounds}: ({case.key}) {case.label}: warm-up")
            conns = await open_connections(case.port, args.concurrency)
            try:
                answers[case.key] = await verify(conns, case, fx, args.warmup)
                same_rows(answers)
                db_pids = await backend_pids(args.admin_dsn, database)
                log(f"round {round_ + 1}/{args.rounds}: ({case.key}) measuring {args.duration}s")
                profiler = start_profiler(args, case, round_)
                try:
                    result = await measure(conns, case, fx, args.duration, db_pids)
                except BaseException:
                    if profiler is not None:
                        profiler.kill()
                        profiler.wait()
                    raise
                if profiler is not None:
                    await asyncio.to_thread(finish_profiler, profiler)
            finally:
                for conn in conns:
                    conn.close()
            results[case.key].add(result)
            p50 = 1000 * result.percentile(0.5)
            log(f"  ({case.key}) {result.rps:.0f} req/s, p50 {p50:.1f} ms, {result.errors} errors")
    return results


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def report(args: argparse.Namespace, cases: list[Case], results: dict[str, Result]) -> str:
    cores = os.cpu_count() or 0
    header = [
        "case", "req/s", "p50 ms", "p99 ms", "errors", "server CPU ms/req",
        "postgres CPU ms/req", "client CPU ms/req", "other processes, cores",
    ]  # fmt: skip
    rows = []
    for case in cases:
        r = results[case.key]
        rows.append(
            [
                f"({case.key}) {case.label}", f"{r.rps:.0f}", f"{1000 * r.percentile(0.5):.2f}",
                f"{1000 * r.percentile(0.99):.2f}", str(r.errors),
                f"{r.per_request_ms(r.server_cpu):.2f}", f"{r.per_request_ms(r.db_cpu):.2f}",
                f"{r.per_request_ms(r.client_cpu):.2f}", f"{r.others:.2f}",
            ]
        )  # fmt: skip
    lines = [*markdown_table(header, rows), ""]
    lines += ratios(results)
    busiest = max(results.values(), key=lambda r: r.others if r.wall else 0.0)
    if busiest.others > 0.2:
        lines.append(
            f"- WARNING: other processes kept {busiest.others:.1f} of {cores} cores busy during a"
            " case; absolute numbers and ratios are skewed, the CPU-per-request columns least."
        )
    lines += [
        "",
        f"Machine: {cores} cores ({platform.processor() or platform.machine()}),"
        f" Python {platform.python_version()} ({platform.python_implementation()}),"
        f" {platform.system()} {platform.release()}; load average before the run"
        f" {args.loadavg}.",
        f"Run: {args.records} records, concurrency {args.concurrency}, {args.rounds} round(s)"
        f" of {args.warmup:g}s warm-up + {args.duration:g}s per case; load generator, server"
        " and PostgreSQL share the cores.",
    ]
    return "\n".join(lines)


def ratios(results: dict[str, Result]) -> list[str]:
    lines = []
    a, b, c, d = (results.get(k) for k in "abcd")
    if a and c and a.count and c.count:
        lines.append(
            f"- a/c throughput: {a.rps / c.rps:.2f} (GraphQL serves {100 * a.rps / c.rps:.0f}%"
            f" of the floor's requests/s); a/c p50: {a.percentile(0.5) / c.percentile(0.5):.2f}"
        )
    if c and c.count:
        floor = c.server_cpu / c.count
        for key, aim in CPU_AIMS.items():
            r = results.get(key)
            if r and r.count:
                ratio = r.server_cpu / r.count / floor
                verdict = "met" if ratio <= aim else "NOT met"
                lines.append(
                    f"- {key}/c server CPU per request: {ratio:.1f}x the floor (aim <= {aim:g}x:"
                    f" {verdict})"
                )
    for rest, graphql, what in ((b, a, "b/a"), (b, d, "b/d")):
        if not (rest and graphql and rest.rps and graphql.rps):
            continue
        thr = rest.rps / graphql.rps
        p50 = rest.percentile(0.5) / graphql.percentile(0.5)
        cost_thr = 100 * (1 / thr - 1)
        cost_p50 = 100 * (p50 - 1)
        verdict = "met" if max(cost_thr, cost_p50) <= 15 else "NOT met"
        lines.append(
            f"- {what} throughput: {thr:.2f}, p50: {p50:.2f} (REST costs {cost_thr:+.1f}% per"
            f" request by throughput, {cost_p50:+.1f}% by p50; aim <= +15%: {verdict})"
        )
    if a and b and d:
        lines.append(
            "- (a) also selects `project { id name }`, which the REST operation does not; (d)"
            " is the REST operation's own document through /graphql, so b/d is the shim alone."
        )
    return lines


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="records to load")
    parser.add_argument("--projects", type=int, default=5, help="projects to spread them over")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per case")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per case")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure the cases this many times, interleaved"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for the records")
    parser.add_argument(
        "--cases",
        default="abcd",
        help="which cases to run, in order (default abcd; d = REST's document via /graphql)",
    )
    parser.add_argument(
        "--with-workers",
        action="store_true",
        help="run the pipeline consumers inside the API process, as `aica serve` does",
    )
    add_admin_dsn(parser)
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample each server with py-spy while it is measured; collapsed stacks go to DIR",
    )
    parser.add_argument(
        "--hold",
        action="store_true",
        help="after the run, keep servers and database until Ctrl-C (for profiling)",
    )
    # Internal: the server subprocesses run this file again.
    parser.add_argument("--serve", choices=["aica", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--org-id", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.records < PAGE_SIZE:
        parser.error(f"--records must be at least {PAGE_SIZE}")
    if args.profile and not args.serve and find_py_spy() is None:
        parser.error("--profile needs py-spy (pip install py-spy into the venv; not a dependency)")
    if not args.cases or set(args.cases) - set(CASES) or len(set(args.cases)) < len(args.cases):
        parser.error(f"--cases takes distinct letters of {CASES}")
    if args.concurrency < 1 or args.duration <= 0 or args.rounds < 1 or args.projects < 1:
        parser.error("--concurrency, --duration, --rounds and --projects must be positive")
    return args


def run_async(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def build_cases(keys: str, fx: Fixture, aica: Server, floor: Server) -> list[Case]:
    from rest_compat.operations import load

    auth = {"Authorization": f"Bearer {fx.token}", "X-Selected-Org-ID": fx.org_id}
    post = {**auth, "Content-Type": "application/json", "Accept": "application/json"}
    rest_doc = load("ListRecords")
    bodies: dict[str, dict[str, Any]] = {
        "a": {"query": GRAPHQL_QUERY},
        "d": {
            "query": rest_doc.document,
            "operationName": rest_doc.name,
            "variables": {"pageSize": PAGE_SIZE},
        },
    }

    def graphql(body: dict[str, Any]) -> bytes:
        return http_request("POST", "/graphql", aica.port, post, json.dumps(body).encode())

    get = {**auth, "Accept": "application/json"}
    cases = {
        "a": Case("a", "GraphQL POST /graphql", aica.port, graphql(bodies["a"]), check_graphql,
                  aica.process.pid),
        "b": Case("b", "REST GET /api/v1/records", aica.port,
                  http_request("GET", REST_PATH, aica.port, get), check_list, aica.process.pid),
        "c": Case("c", "floor Starlette+asyncpg", floor.port,
                  http_request("GET", FLOOR_PATH, floor.port, {"Accept": "application/json"}),
                  check_list, floor.process.pid),
        "d": Case("d", "GraphQL, REST's ListRecords document", aica.port, graphql(bodies["d"]),
                  check_graphql, aica.process.pid),
    }  # fmt: skip
    return [cases[k] for k in keys]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args)
        return 0
    args.loadavg = loadavg()
    with scratch(args.admin_dsn, prefix="aica-bench-") as run:
        try:
            started = time.perf_counter()
            log(f"creating database {run.database} and loading {args.records} records")
            fx = run_async(prepare(run, args.records, args.projects, args.seed))
            log(f"  ready in {time.perf_counter() - started:.1f}s")
            aica = start_aica_or_floor(run, "aica", fx, workers=args.with_workers)
            floor = start_aica_or_floor(run, "floor", fx)
            cases = build_cases(args.cases, fx, aica, floor)
            wait_ready(aica, "/readyz", within=60)
            wait_ready(floor, "/healthz", within=60)
            results = run_async(bench(args, fx, cases, run.database))
            print(report(args, cases, results), flush=True)
            if args.profile:
                print("\n".join(profile_summary(args.profile, cases)), flush=True)
            if args.hold:
                log(
                    f"holding: aica pid {aica.process.pid} port {aica.port}, floor pid"
                    f" {floor.process.pid} port {floor.port}, database {fx.url}; Ctrl-C ends"
                )
                signal.pause()
            return 0
        except WrongAnswer as exc:
            log(f"wrong answer: {exc}")
            return 1
        except (RuntimeError, OSError, EOFError) as exc:  # EOFError: a server hung up
            log(f"failed: {exc!r}")
            return 1


if __name__ == "__main__":
    sys.exit(main())
