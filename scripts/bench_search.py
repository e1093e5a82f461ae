# ruff: noqa: RUF001  (Russian lines)
"""Search latency and indexing throughput of the PostgreSQL backend.

Creates a scratch database (dropped at the end, also on Ctrl-C or SIGTERM), migrates it,
makes one org with 5 projects and N records, and loads N synthetic call transcripts (English,
one in ten Russian) into ``search_documents`` in bulk: COPY into a staging table, then one
INSERT ... SELECT that computes the tsvectors and fills the GIN index (the indexing
throughput reported). Then it runs mixed queries (common and rare words, phrases, Russian,
half of them filtered by project) through the backend's own ``search`` and prints p50/p95.

    .venv/bin/python scripts/bench_search.py --docs 100000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from _bench_common import add_admin_dsn, loadavg, log, markdown_table, scratch
from tortoise import Tortoise

from aica import db
from aica.search.base import Scope
from aica.search.postgres import PostgresSearch, config_for
from aica.search.query import parse, words_of

ENGLISH = [
    "Thank you for calling customer support, my name is {agent}, how can I help you today?",
    "I was charged twice for my subscription this month.",
    "Could you tell me about your refund policy for annual plans?",
    "Let me check your account, it will take a moment.",
    "I have processed your refund, it should arrive within five business days.",
    "The delivery was late and the box was damaged.",
    "Can I change the shipping address on my order?",
    "Your order number is on the confirmation email we sent you.",
    "I would like to cancel my subscription before the next billing date.",
    "We can offer you a discount for the next three months.",
    "The credit card on file has expired, please update your payment details.",
    "I am sorry for the inconvenience, let me fix that for you.",
    "Is there anything else I can help you with today?",
    "The technician will visit you on Tuesday between nine and twelve.",
    "My internet connection keeps dropping every evening.",
    "Please restart the router and wait for two minutes.",
    "I need an invoice for my company with the tax number.",
    "The password reset link does not work on my phone.",
    "I will escalate this to my supervisor right away.",
    "Thank you for your patience, have a great day.",
]
RUSSIAN = [
    "Здравствуйте, меня зовут {agent}, чем могу помочь?",
    "Я хочу оформить возврат денег за заказ.",
    "С моей карты дважды списали оплату за подписку.",
    "Подскажите, когда приедет курьер с доставкой?",
    "Давайте я проверю ваш заказ, это займёт минуту.",
    "Мы оформим возврат в течение трёх рабочих дней.",
    "Интернет постоянно пропадает по вечерам.",
    "Спасибо за ожидание, всего доброго.",
]
RARE = ["chargeback", "arbitration", "warranty", "ombudsman"]
"""Each said in about one call in a thousand."""
AGENTS = ["Anna", "Boris", "Carla", "Dmitri", "Elena", "Frank", "Grace", "Hugo"]
QUERIES = [
    ("common word", "refund"),
    ("common word", "order"),
    ("common word", "subscription"),
    ("two words", "refund policy"),
    ("two words", "damaged box"),
    ("phrase", '"credit card"'),
    ("phrase", '"refund policy"'),
    ("prefix", "subscr*"),
    ("exclusion", "refund -subscription"),
    ("rare word", "chargeback"),
    ("rare word", "ombudsman"),
    ("russian", "возврат"),
    ("russian", "доставка курьер"),
]


def transcript(rng: random.Random) -> tuple[str, str, str]:
    """(language, agent, text) of one call."""
    russian = rng.random() < 0.1
    lines = RUSSIAN if russian else ENGLISH
    agent = rng.choice(AGENTS)
    said = [lines[0].format(agent=agent)]
    said += rng.sample(lines[1:], k=min(len(lines) - 1, rng.randint(5, 12)))
    if rng.random() < 0.004:
        said.insert(rng.randint(1, len(said)), f"The customer mentioned {rng.choice(RARE)}.")
    return ("ru" if russian else "en", agent, " ".join(said))


async def load(url: str, docs: int, org_id: str, projects: list[str]) -> float:
    """Records and their transcripts' documents; returns indexed documents per second."""
    rng = random.Random(13)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(url)
    try:
        records, staged, vocabulary = [], [], set()
        for i in range(docs):
            language, agent, text = transcript(rng)
            record_id = f"rec_bench{i:09d}"
            project = projects[i % len(projects)]
            created = now - timedelta(minutes=i)
            records.append(
                (
                    record_id,
                    org_id,
                    project,
                    "call",
                    "completed",
                    100,
                    1,
                    "upload",
                    "{}",
                    created,
                    language,
                    agent,
                )
            )
            staged.append(
                (
                    record_id,
                    "transcript",
                    org_id,
                    project,
                    agent,
                    None,
                    "completed",
                    language,
                    created,
                    config_for(language),
                    text,
                    "[]",
                )
            )
            if i < 2000:
                vocabulary.update(w for w in words_of(text) if len(w) >= 3)
        await connection.copy_records_to_table(
            "records",
            records=records,
            columns=[
                "id",
                "org_id",
                "project_id",
                "type",
                "status",
                "progress",
                "attempts",
                "source",
                "metadata",
                "created_at",
                "language",
                "agent_name",
            ],
        )
        await connection.execute(
            "CREATE TEMP TABLE staged (LIKE search_documents INCLUDING DEFAULTS)"
            "; ALTER TABLE staged DROP COLUMN tsv, ALTER COLUMN config TYPE text"
        )
        await connection.copy_records_to_table(
            "staged",
            records=[(*row[:11], row[11]) for row in staged],
            columns=[
                "record_id",
                "type",
                "org_id",
                "project_id",
                "agent_name",
                "agent_external_id",
                "status",
                "language",
                "created_at",
                "config",
                "body",
                "segments",
            ],
        )
        started = time.perf_counter()
        await connection.execute(
            "INSERT INTO search_documents (record_id, type, org_id, project_id, agent_name,"
            " agent_external_id, status, language, created_at, config, body, segments)"
            " SELECT record_id, type, org_id, project_id, agent_name, agent_external_id, status,"
            " language, created_at, config::regconfig, body, segments FROM staged"
        )
        elapsed = time.perf_counter() - started
        await connection.executemany(
            "INSERT INTO search_terms (org_id, term) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(org_id, w) for w in sorted(vocabulary)],
        )
        await connection.execute("VACUUM ANALYZE search_documents")
        await connection.execute("VACUUM ANALYZE records")
    finally:
        await connection.close()
    return docs / elapsed


async def measure(org_id: str, projects: list[str], n: int) -> list[tuple[str, float, int]]:
    """(kind, milliseconds, total) of ``n`` queries, half filtered by project."""
    backend = PostgresSearch()
    rng = random.Random(7)
    for _, q in QUERIES:  # warm the caches once
        await backend.search(parse(q), Scope(org_id=org_id), 0, 10)
    timings = []
    for i in range(n):
        kind, q = QUERIES[i % len(QUERIES)]
        project = rng.choice(projects) if i % 2 else None
        scope = Scope(org_id=org_id, project_id=project)
        started = time.perf_counter()
        results = await backend.search(parse(q), scope, 0, 10)
        timings.append(
            (
                kind + (" + project" if project else ""),
                (time.perf_counter() - started) * 1000,
                results.total,
            )
        )
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(url: str, docs: int, queries: int) -> list[str]:
    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        from aica.models import Project
        from aica.services import orgs

        created = await orgs.bootstrap("Bench", "bench@example.com")
        org_id = created.org.id
        projects = [(await Project.create(org_id=org_id, name=f"Line {i}")).id for i in range(5)]
        log(f"loading {docs} transcripts (load average {loadavg()})")
        throughput = await load(url, docs, org_id, projects)
        log(f"measuring {queries} queries")
        timings = await measure(org_id, projects, queries)
    finally:
        await Tortoise.close_connections()
    all_ms = [ms for _, ms, _ in timings]
    rows = [
        [
            "all",
            str(len(all_ms)),
            f"{percentile(all_ms, 50):.1f}",
            f"{percentile(all_ms, 95):.1f}",
            "",
        ]
    ]
    for kind in dict.fromkeys(k for k, _, _ in timings):
        ms = [t for k, t, _ in timings if k == kind]
        totals = [total for k, _, total in timings if k == kind]
        rows.append(
            [
                kind,
                str(len(ms)),
                f"{percentile(ms, 50):.1f}",
                f"{percentile(ms, 95):.1f}",
                str(max(totals)),
            ]
        )
    return [
        f"{docs:,} transcripts; indexing {throughput:,.0f} documents/s; load average {loadavg()}",
        "",
        *markdown_table(["queries", "n", "p50 ms", "p95 ms", "matches"], rows, "lrrrr"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    add_admin_dsn(parser)
    args = parser.parse_args()
    with scratch(args.admin_dsn, prefix="aica-bench-search-") as scratch_run:
        url = asyncio.run(scratch_run.create_database())
        print("\n".join(asyncio.run(run(url, args.docs, args.queries))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
