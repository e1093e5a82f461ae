"""Benchmark the records list at scale: page 1, a middle page and the last page, 10k vs 1M.

Run from the repository root::

    .venv/bin/python scripts/bench_scale.py                       # 10,000 and 1,000,000
    .venv/bin/python scripts/bench_scale.py --sizes 10000,100000 --requests 10

One run:

1. creates a fresh database on the PostgreSQL of ``--admin-dsn`` (dropped at the end, also on
   Ctrl-C or SIGTERM), migrates it and bootstraps one org per size (5 projects, an agent
   member), then bulk-loads each org's records with COPY (asyncpg
   ``copy_records_to_table``) and runs ``VACUUM ANALYZE``, as a long-lived database would be;
2. times the insert cost of the list indexes and counters: the same 100,000 rows copied into
   empty tables with the three indexes before migration 0016, with its eight, and with its
   eight and the counting trigger;
3. starts the real service (``aica serve``, API only: ``AICA_RUN_WORKERS=0``, rate limiting
   off) and, for each filter case and each size, requests page 1, the middle page and the
   last page (pageSize 20) through ``GET /api/v1/records``, the GraphQL page form (``page``)
   and the GraphQL cursor form (``first``/``after``, the cursor taken from the page before),
   all selecting the total; each cell is ``--requests`` sequential requests
   after two warm-ups, every answer checked (status, items, the exact total, capped at 1,000
   for the agent in GraphQL, and every GraphQL page equal to the REST page);
4. prints EXPLAIN ANALYZE of what costs most at the largest size (totals by counters and by
   counting rows, the middle page's offset, an agent's count and middle page) and the
   tables: p50 and p95 latency (ms) per size and their ratio.

A benchmark, not a test (DESIGN.md section 7): its ratios are measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import string
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from _bench_common import (
    Scratch,
    add_admin_dsn,
    free_port,
    loadavg,
    log,
    markdown_table,
    scratch,
    wait_ready,
    with_root_on_path,
)

from aica.search.base import COUNTED

PAGE_SIZE = 20
PROJECTS = 5
DAYS = 90
CHUNK = 50_000
INDEX_PROBE_ROWS = 100_000
AGENTS = [
    "Alice Carter", "Bob Novak", "Chen Wei", "Dmitri Orlov", "Eva Lind",
    "Farid Haddad", "Grace Kim", "Hugo Silva", "Irina Petrova", "Jonas Berg",
]  # fmt: skip
AGENT = AGENTS[3]
"""The agent member's name: they see a tenth of their org's calls."""
OLD_INDEXES = [
    ("org_id", "created_at"),
    ("org_id", "project_id", "created_at"),
    ("org_id", "status", "created_at"),
]
"""The list indexes before migration 0016, for the insert-cost comparison."""
ITEM_FIELDS = (
    "id projectId type status duration qualityScore agentName customerPhone createdAt completedAt"
)
GRAPHQL = """query Bench($projectId: ID, $status: RecordStatus, $from: DateFilter, $to: DateFilter,
  $sort: RecordSort! = createdAt, $order: SortOrder! = desc, $page: Int! = 1,
  $first: Int, $after: String) {
  records(projectId: $projectId, status: $status, from: $from, to: $to, sort: $sort,
          order: $order, page: $page, pageSize: PAGE_SIZE, first: $first, after: $after) {
    items { ITEM_FIELDS }
    total totalIsExact pageInfo { hasNextPage endCursor }
  }
}""".replace("PAGE_SIZE", str(PAGE_SIZE)).replace("ITEM_FIELDS", ITEM_FIELDS)
COLUMNS = [
    "id", "org_id", "project_id", "type", "status", "progress", "attempts", "error", "duration",
    "quality_score", "agent_name", "customer_phone", "source", "file_name", "format", "size",
    "channels", "language", "metadata", "created_at", "completed_at",
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


@dataclass
class Org:
    size: int
    org_id: str
    owner: dict[str, str]
    agent: dict[str, str]
    project_id: str
    now: datetime


def _ids(rng: random.Random) -> Iterator[str]:
    alphabet = string.ascii_lowercase + string.digits
    while True:
        yield "rec_" + "".join(rng.choices(alphabet, k=12))


def fake_rows(
    org_id: str, projects: list[str], count: int, now: datetime, seed: int
) -> Iterator[tuple[Any, ...]]:
    """Calls spread over 90 days, 85% completed (scored), some failed, some in flight."""
    rng = random.Random(seed)
    ids = _ids(rng)
    for i in range(count):
        created = now - timedelta(microseconds=rng.randrange(DAYS * 86_400_000_000))
        roll = rng.random()
        status = (
            "completed" if roll < 0.85 else "failed" if roll < 0.9
            else "processing" if roll < 0.95 else "pending"
        )  # fmt: skip
        done = status == "completed"
        duration = rng.uniform(20, 900) if status != "pending" else None
        yield (
            next(ids), org_id, projects[i % len(projects)], "call", status, 100 if done else 0,
            1, "Audio could not be decoded" if status == "failed" else None, duration,
            rng.uniform(35, 100) if done else None, rng.choice(AGENTS),
            f"+1555{rng.randrange(10**7):07d}", "upload", f"call-{i:07d}.wav", "wav",
            rng.randrange(200_000, 20_000_000), 2, "en", "{}", created,
            created + timedelta(seconds=(duration or 0) + 30) if done else None,
        )  # fmt: skip


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def make_orgs(
    url: str, sizes: list[int]
) -> list[tuple[int, str, dict[str, str], dict[str, str], list[str]]]:
    """One org per size with its projects, owner and agent tokens (through the services)."""
    from tortoise import Tortoise

    from aica import db
    from aica.models import Membership, Project, Role, TokenKind
    from aica.services import auth, orgs, users
    from aica.services.access import Actor

    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url))
    made = []
    try:
        for n, size in enumerate(sizes):
            created = await orgs.bootstrap(f"Org of {size}", f"owner{n}@bench.example.com")
            org_id = created.org.id
            projects = [
                (await Project.create(org_id=org_id, name=f"Project {i + 1}")).id
                for i in range(PROJECTS)
            ]
            owner = Actor(created.user.id, org_id, Role.owner)
            invited = await users.invite(
                owner, f"agent{n}@bench.example.com", Role.agent, agent_name=AGENT
            )
            await Membership.filter(pk=invited.membership.pk).update(pending=False)
            agent_token, _ = await auth.issue_token(invited.membership.user_id, TokenKind.personal)
            made.append((size, org_id, _headers(created.token, org_id),
                         _headers(agent_token, org_id), projects))  # fmt: skip
    finally:
        await Tortoise.close_connections()
    return made


def _headers(token: str, org_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Selected-Org-ID": org_id}


async def load(url: str, sizes: list[int], seed: int) -> tuple[list[Org], dict[str, float]]:
    import asyncpg

    now = datetime.now(UTC).replace(microsecond=0)
    made = await make_orgs(url, sizes)
    con = await asyncpg.connect(url)
    timings: dict[str, float] = {}
    try:
        orgs = []
        for size, org_id, owner, agent, projects in made:
            started = time.perf_counter()
            for chunk in _chunks(fake_rows(org_id, projects, size, now, seed + size), CHUNK):
                await con.copy_records_to_table("records", records=chunk, columns=COLUMNS)
            timings[f"COPY {size:,} records"] = time.perf_counter() - started
            log(f"loaded {size:,} records in {timings[f'COPY {size:,} records']:.0f} s")
            orgs.append(Org(size, org_id, owner, agent, projects[0], now))
        started = time.perf_counter()
        await con.execute("VACUUM ANALYZE records")
        timings["VACUUM ANALYZE"] = time.perf_counter() - started
        timings.update(await index_cost(con, made[0][4], now, seed))
    finally:
        await con.close()
    return orgs, timings


async def index_cost(con: Any, projects: list[str], now: datetime, seed: int) -> dict[str, float]:
    """COPY the same rows into tables with the old indexes, the new ones, and the new ones
    with the counting triggers (rows of an org of their own, so no real org's counts move)."""
    rows = list(fake_rows("org_probe", projects, INDEX_PROBE_ROWS, now, seed - 1))
    await con.execute(
        "CREATE TABLE bench_old (LIKE records INCLUDING DEFAULTS); "
        "ALTER TABLE bench_old ADD PRIMARY KEY (id), ADD UNIQUE (org_id, source, external_id); "
        + "".join(f"CREATE INDEX ON bench_old ({', '.join(cols)}); " for cols in OLD_INDEXES)
        + "CREATE TABLE bench_new (LIKE records INCLUDING DEFAULTS INCLUDING INDEXES); "
        "CREATE TABLE bench_counted (LIKE records INCLUDING DEFAULTS INCLUDING INDEXES); "
        "CREATE TRIGGER bench_counted AFTER INSERT ON bench_counted REFERENCING NEW TABLE AS "
        "new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_records()"
    )
    out = {}
    try:
        for table, label in (
            ("bench_old", "the 3 indexes before 0016"),
            ("bench_new", "the 8 indexes of 0016"),
            ("bench_counted", "the 8 indexes and the counters"),
        ):
            started = time.perf_counter()
            for chunk in _chunks(iter(rows), CHUNK):
                await con.copy_records_to_table(table, records=chunk, columns=COLUMNS)
            out[f"COPY {INDEX_PROBE_ROWS:,} rows, {label}"] = time.perf_counter() - started
    finally:
        await con.execute(
            "DROP TABLE bench_old, bench_new, bench_counted; "
            "DELETE FROM record_counts WHERE org_id = 'org_probe'"
        )
    return out


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    label: str
    params: dict[str, str]
    as_agent: bool = False


def cases(org: Org) -> list[Case]:
    start = (org.now - timedelta(days=60)).date().isoformat()
    end = (org.now - timedelta(days=31)).date().isoformat()
    return [
        Case("all, newest first", {}),
        Case("status=completed", {"status": "completed"}),
        Case("projectId", {"projectId": org.project_id}),
        Case("30-day range", {"from": start, "to": end}),
        Case("qualityScore desc", {"sort": "qualityScore", "order": "desc"}),
        Case(
            "projectId, qualityScore asc",
            {"projectId": org.project_id, "sort": "qualityScore", "order": "asc"},
        ),
        Case("agent (own calls)", {}, as_agent=True),
    ]


@dataclass
class Cell:
    latencies: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class WrongAnswer(Exception):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise WrongAnswer(message)


def timed(client: httpx.Client, send: Any, check: Any, requests: int) -> tuple[Cell, Any]:
    cell = Cell()
    body = None
    for i in range(requests + 2):
        started = time.perf_counter()
        response = send(client)
        elapsed = time.perf_counter() - started
        _expect(
            response.status_code == 200, f"status {response.status_code}: {response.text[:300]}"
        )
        body = response.json()
        check(body)
        if i >= 2:
            cell.latencies.append(1000 * elapsed)
    return cell, body


def measure(
    client: httpx.Client, org: Org, case: Case, requests: int
) -> dict[tuple[str, str], Cell]:
    headers = org.agent if case.as_agent else org.owner
    first = client.get(
        "/api/v1/records", params={**case.params, "pageSize": PAGE_SIZE}, headers=headers
    )
    _expect(first.status_code == 200, first.text[:300])
    total = first.json()["meta"]["total"]
    pages = max(1, math.ceil(total / PAGE_SIZE))
    out: dict[tuple[str, str], Cell] = {}
    for which, page in (("page 1", 1), ("middle", (pages + 1) // 2), ("last", pages)):
        rest_params = {**case.params, "page": page, "pageSize": PAGE_SIZE}

        def check_rest(body: dict[str, Any], page: int = page) -> None:
            _expect(body["meta"] == {"page": page, "pageSize": PAGE_SIZE, "total": total},
                    f"meta {body['meta']}")  # fmt: skip
            _expect(len(body["data"]) == min(PAGE_SIZE, total - (page - 1) * PAGE_SIZE), "items")

        out[(which, "rest")], rest = timed(
            client, lambda c, p=rest_params: c.get("/api/v1/records", params=p, headers=headers),
            check_rest, requests,
        )  # fmt: skip
        rest_ids = [item["id"] for item in rest["data"]]

        def post(variables: dict[str, Any]) -> Any:
            payload = {"query": GRAPHQL, "variables": variables}
            return lambda c: c.post("/graphql", json=payload, headers=headers)

        def check_graphql(body: dict[str, Any], rest_ids: list[str] = rest_ids) -> None:
            _expect(not body.get("errors"), f"errors {body.get('errors')}")
            got = body["data"]["records"]
            _expect([i["id"] for i in got["items"]] == rest_ids, "not the REST page's items")
            counted = min(total, COUNTED) if case.as_agent else total  # no counters for agents
            _expect(got["total"] == counted and got["totalIsExact"] == (counted == total),
                    f"total {got['total']} {got['totalIsExact']}")  # fmt: skip

        variables: dict[str, Any] = dict(case.params)
        out[(which, "graphql page")], _ = timed(
            client, post({**variables, "page": page}), check_graphql, requests
        )
        after = None
        if page > 1:
            before = post({**variables, "page": page - 1})(client).json()
            after = before["data"]["records"]["pageInfo"]["endCursor"]
        out[(which, "graphql cursor")], _ = timed(
            client, post({**variables, "first": PAGE_SIZE, "after": after}), check_graphql,
            requests,
        )  # fmt: skip
    return out


# --------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------


async def explain(url: str, org: Org) -> list[str]:
    """What the largest org's most expensive statements do (plans, timings, buffers)."""
    import asyncpg

    middle = org.size // 2
    statements = {
        "exact total from the counters, no filter": (
            "SELECT coalesce(sum(n), 0) FROM record_counts WHERE org_id = $1"
        ),
        "exact total by counting rows, no filter (what the counters save)": (
            "SELECT count(*) FROM records WHERE org_id = $1"
        ),
        f"middle page (offset {middle:,}), ids only": (
            "SELECT id FROM records WHERE org_id = $1 ORDER BY created_at DESC, id DESC "
            f"OFFSET {middle} LIMIT {PAGE_SIZE + 1}"
        ),
        "an agent's calls counted (all in REST, up to 1,000 in GraphQL)": (
            f"SELECT count(*) FROM records WHERE org_id = $1 AND agent_name = '{AGENT}'"
        ),
        "the agent's middle page, ids only": (
            f"SELECT id FROM records WHERE org_id = $1 AND agent_name = '{AGENT}' "
            f"ORDER BY created_at DESC, id DESC OFFSET {org.size // 20} LIMIT {PAGE_SIZE + 1}"
        ),
    }
    con = await asyncpg.connect(url)
    lines = []
    try:
        for label, sql in statements.items():
            plan = await con.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", org.org_id)
            lines += [f"-- {label}", *(row[0] for row in plan), ""]
    finally:
        await con.close()
    return lines


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def start_service(run: Scratch, url: str) -> Any:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")} | {
        "AICA_DATABASE_URL": url,
        "AICA_DATA_DIR": str(run.work_dir / "data"),
        "AICA_RUN_WORKERS": "0",
        "AICA_RATE_LIMIT_PER_MINUTE": "0",
        "AICA_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        "-c",
        "from aica.cli import app; app()",
        "serve",
        "--port",
        str(port),
    ]
    server = run.start_server("aica", command, port, with_root_on_path(env))
    wait_ready(server)
    return server


def report(
    orgs: list[Org], results: dict[int, dict[str, dict[tuple[str, str], Cell]]], q: float
) -> list[str]:
    small, large = orgs[0].size, orgs[-1].size
    modes = ("rest", "graphql page", "graphql cursor")
    header = ["case", "page"]
    for mode in modes:
        header += [f"{mode} {small:,}", f"{large:,}", "ratio"]
    rows = []
    for case in cases(orgs[0]):
        for which in ("page 1", "middle", "last"):
            row = [case.label, which]
            for mode in modes:
                a = results[small][case.label][(which, mode)].percentile(q)
                b = results[large][case.label][(which, mode)].percentile(q)
                row += [f"{a:.1f}", f"{b:.1f}", f"{b / a:.1f}"]
            rows.append(row)
    return markdown_table(header, rows, "ll" + "rrr" * len(modes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_admin_dsn(parser)
    parser.add_argument("--sizes", default="10000,1000000", help="records per org, smallest first")
    parser.add_argument("--requests", type=int, default=15, help="timed requests per cell")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    with scratch(args.admin_dsn, "aica-bench-scale-") as run:
        url = asyncio.run(run.create_database())
        orgs, timings = asyncio.run(load(url, sizes, args.seed))
        profile = asyncio.run(explain(url, orgs[-1]))
        server = start_service(run, url)
        results: dict[int, dict[str, dict[tuple[str, str], Cell]]]
        started = time.perf_counter()
        with httpx.Client(base_url=server.base_url, timeout=120) as client:
            results = {org.size: {} for org in orgs}
            for i in range(len(cases(orgs[0]))):  # sizes side by side: the machine drifts
                for org in orgs:
                    case = cases(org)[i]
                    log(f"{org.size:,}: {case.label}")
                    results[org.size][case.label] = measure(client, org, case, args.requests)
        measured = time.perf_counter() - started

    print(f"# bench_scale: {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {loadavg()} at the end, {measured:.0f} s of requests")  # fmt: skip
    print()
    for label, seconds in timings.items():
        print(f"- {label}: {seconds:.1f} s")
    print()
    print("\n".join(profile))
    for q, name in ((0.5, "p50"), (0.95, "p95")):
        print(f"## {name} latency (ms), pageSize {PAGE_SIZE}, {args.requests} requests a cell")
        print()
        print("\n".join(report(orgs, results, q)))
        print()


if __name__ == "__main__":
    main()
