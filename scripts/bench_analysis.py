# ruff: noqa: RUF001  (Russian call lines)
"""Benchmark the built-in analyzer (``aica.analysis.analyze``).

Run from the repository root::

    .venv/bin/python scripts/bench_analysis.py                 # 10-minute call, 3 s a profile
    .venv/bin/python scripts/bench_analysis.py --minutes 30 --seconds 5
    .venv/bin/python scripts/bench_analysis.py --language ru --stored 0  # Russian, no database

Part 1 (:func:`part_engine`): one synthetic stereo transcript of ``--minutes`` minutes
(:func:`synthetic_transcript`: agent and customer turns alternating, realistic call-centre
sentences in English or, with ``--language ru``, Russian, word timestamps at about 150 words a
minute, a few overlaps and pauses; the same every run), analysed with each built-in profile
over and over for ``--seconds`` seconds in this process, after one warm-up analysis (which is
also checked to give the same result twice).
Reported: analyses per second, milliseconds per analysis (mean), the real-time factor (seconds
of call analysed per wall-clock second) and the transcript's size. One thread, so on a shared
machine the numbers move with the load; run it on a quiet one.

Each part returns table rows; :func:`main` runs the parts and prints one markdown table, so a
later part (for instance re-analysing stored transcripts through the database) is one more
function added to ``PARTS``. A benchmark, not a test (DESIGN.md 7).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from _bench_common import DEFAULT_ADMIN_DSN, markdown_table

from aica.analysis import BUILTIN, analyze
from aica.transcript import Segment, Transcript, Word

ENGLISH_AGENT = [
    "Good morning, thank you for calling Northwind support, my name is {name}.",
    "How can I help you today?",
    "Let me check your account, it will take a moment.",
    "I can see the order you placed on {day} for {item}.",
    "I'm sorry about the trouble with {topic}.",
    "Could you please confirm the email address on the account?",
    "I have processed your refund of {k} dollars for the second payment.",
    "You should receive a confirmation email within {k} minutes.",
    "I have updated the delivery address to {city} as you asked.",
    "Does that resolve the issue for you?",
    "I understand, let me look into the {team} records for you.",
    "The replacement {item} will ship from {city} on {day}.",
    "Is there anything else I can help you with today?",
    "Thank you for your patience, have a great day.",
]
ENGLISH_CUSTOMER = [
    "Hi {name}, I was charged twice for my order of {item}.",
    "I have been waiting since {day} and nothing arrived in {city}.",
    "Sure, it is {name} at example dot com.",
    "The tracking page says the parcel is stuck in {city}.",
    "Can you tell me when the {item} will be delivered?",
    "I called the {team} team last week about {topic} already.",
    "Okay, that sounds good to me.",
    "Yes, that solves it, thank you very much.",
    "No, that is all for today.",
    "Could you send me a receipt for the {k} dollars as well?",
]
ENGLISH_FILLERS = {
    "name": ["Sarah", "Daniel", "Elena", "Marcus", "Priya", "Tom", "Olivia", "Victor"],
    "city": ["Boston", "Denver", "Chicago", "Seattle", "Phoenix", "Atlanta", "Dallas", "Austin"],
    "item": ["a printer", "two monitors", "a router", "a desk lamp", "three headsets", "a tablet"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "team": ["billing", "shipping", "returns", "warranty"],
    "topic": ["late deliveries", "duplicate charges", "password resets", "damaged boxes"],
}
RUSSIAN_AGENT = [
    "Добрый день, спасибо за звонок в поддержку Нордвинд, меня зовут {name}.",
    "Чем могу помочь?",
    "Сейчас проверю ваш аккаунт, это займет минуту.",
    "Я вижу заказ, который вы оформили в {day}: {item}.",
    "Извините за неудобства с {topic}.",
    "Подтвердите, пожалуйста, адрес почты в аккаунте.",
    "Я оформила возврат {k} рублей за второй платеж.",
    "Вы получите письмо с подтверждением в течение {k} минут.",
    "Я обновила адрес доставки на {city}, как вы просили.",
    "Это решает ваш вопрос?",
    "Понимаю, давайте посмотрим записи отдела {team}.",
    "Замена отправится со склада в городе {city} в {day}.",
    "Остались ли у вас вопросы?",
    "Спасибо за ожидание, всего доброго.",
]
RUSSIAN_CUSTOMER = [
    "Здравствуйте, {name}, с меня дважды списали деньги за заказ.",
    "Я жду с понедельника, а в городе {city} так ничего и не получила.",
    "Да, это {name} собака пример точка ру.",
    "На странице отслеживания посылка застряла в городе {city}.",
    "Подскажите, когда доставят заказ?",
    "Я уже звонила в отдел {team} на прошлой неделе по поводу {topic}.",
    "Хорошо, меня это устраивает.",
    "Да, это решает проблему, большое спасибо.",
    "Нет, на сегодня это все.",
    "Пришлите мне, пожалуйста, чек на {k} рублей.",
]
RUSSIAN_FILLERS = {
    "name": ["Анна", "Дмитрий", "Елена", "Максим", "Ольга", "Игорь", "Светлана", "Виктор"],
    "city": ["Москва", "Казань", "Самара", "Пермь", "Тула", "Омск", "Томск", "Сочи"],
    "item": ["принтер", "два монитора", "роутер", "настольная лампа", "гарнитура", "планшет"],
    "day": ["понедельник", "вторник", "среду", "четверг", "пятницу", "субботу"],
    "team": ["оплаты", "доставки", "возвратов", "гарантии"],
    "topic": ["задержками доставки", "двойными списаниями", "сбросом пароля", "мятыми коробками"],
}
SCRIPTS = {
    "en": (ENGLISH_AGENT, ENGLISH_CUSTOMER, ENGLISH_FILLERS),
    "ru": (RUSSIAN_AGENT, RUSSIAN_CUSTOMER, RUSSIAN_FILLERS),
}
"""Per language: the agent's lines, the customer's lines, and what fills their blanks."""

WPM = 150.0


def _sentence(rng: random.Random, template: str, fillers: dict[str, list[str]]) -> str:
    return template.format(
        **{key: rng.choice(values) for key, values in fillers.items()}, k=rng.randint(2, 90)
    )


def synthetic_transcript(minutes: float = 10.0, seed: int = 7, language: str = "en") -> Transcript:
    """A stereo call of ``minutes`` minutes: alternating turns, timed words (deterministic)."""
    agent_lines, customer_lines, fillers = SCRIPTS[language]
    rng = random.Random(seed)
    total = minutes * 60.0
    segments: list[Segment] = []
    t, speaker = 0.6, "agent"
    turn = 0
    while True:
        lines = agent_lines if speaker == "agent" else customer_lines
        if turn == 0:
            text = _sentence(rng, agent_lines[0], fillers) + " " + agent_lines[1]
        else:
            text = " ".join(
                _sentence(rng, rng.choice(lines), fillers) for _ in range(rng.randint(1, 2))
            )
        raw = text.split()
        per_word = 60.0 / (WPM * rng.uniform(0.85, 1.2))
        if t + len(raw) * per_word > total - 0.5:
            break
        words = []
        at = t
        for token in raw:
            length = per_word * rng.uniform(0.7, 1.0)
            words.append(Word(round(at, 3), round(at + length, 3), token, 0.9))
            at += per_word
        segments.append(
            Segment(
                start=words[0].start,
                end=words[-1].end,
                speaker="agent" if speaker == "agent" else "customer",
                channel=0 if speaker == "agent" else 1,
                text=text,
                words=words,
            )
        )
        # the other side answers after a pause, now and then a little early (overtalk)
        t = words[-1].end + rng.choice([0.3, 0.5, 0.8, 1.2, 2.0, -0.4])
        speaker = "customer" if speaker == "agent" else "agent"
        turn += 1
    segments.sort(key=lambda s: (s.start, s.channel))
    return Transcript(
        language=language,
        duration=round(total, 3),
        channels=2,
        text=" ".join(s.text for s in segments),
        segments=segments,
        model="synthetic",
    )


@dataclass
class Row:
    case: str
    runs: int
    per_second: float
    ms: float
    call_seconds: float
    """Seconds of call per analysis (for the real-time factor)."""
    note: str = ""


def part_engine(args: argparse.Namespace) -> list[Row]:
    """Part 1: the analyzer alone, on one synthetic transcript, per built-in profile."""
    transcript = synthetic_transcript(args.minutes, language=args.language)
    words = sum(len(s.words) for s in transcript.segments)
    note = (
        f"{args.minutes:g} min {args.language}, {len(transcript.segments)} segments, {words} words"
    )
    rows = []
    for key, profile in BUILTIN.items():
        first = analyze(transcript, profile)  # warm-up (caches, imports)
        assert analyze(transcript, profile) == first, "not deterministic"
        runs = 0
        started = time.perf_counter()
        deadline = started + args.seconds
        while True:
            analyze(transcript, profile)
            runs += 1
            if time.perf_counter() >= deadline:
                break
        elapsed = time.perf_counter() - started
        rows.append(
            Row(
                case=f"analyze, profile `{key}` (score {first.quality_score})",
                runs=runs,
                per_second=runs / elapsed,
                ms=1000.0 * elapsed / runs,
                call_seconds=transcript.duration,
                note=note,
            )
        )
    return rows


def part_stored(args: argparse.Namespace) -> list[Row]:
    """Part 2: re-analyse ``--stored`` transcripts kept in PostgreSQL, as re-analysis does:
    read the transcript, analyse, write the analysis and point the record at it."""
    if args.stored <= 0:
        return []
    return asyncio.run(_reanalyze_stored(args))


async def _reanalyze_stored(args: argparse.Namespace) -> list[Row]:
    from tortoise import Tortoise

    from aica import db
    from aica.models import Project, Record, RecordStatus
    from aica.models import Transcript as StoredTranscript
    from aica.services import orgs
    from aica.services.analyses import analyze_record

    name = f"aica_bench_analysis_{os.getpid()}"
    admin = await asyncpg.connect(args.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{args.admin_dsn.rsplit('/', 1)[0]}/{name}"
    try:
        await db.migrate(url)
        await Tortoise.init(config=db.tortoise_config(url))
        created = await orgs.bootstrap("Bench", "bench@example.com")
        project = await Project.create(org_id=created.org.id, name="Bench")
        calls = [synthetic_transcript(args.stored_minutes, seed=i) for i in range(20)]
        records = [
            Record(
                org_id=created.org.id,
                project_id=project.id,
                status=RecordStatus.completed,
                duration=calls[i % len(calls)].duration,
                channels=2,
                language="en",
            )
            for i in range(args.stored)
        ]
        await Record.bulk_create(records, batch_size=1000)
        await StoredTranscript.bulk_create(
            [
                StoredTranscript(
                    record_id=r.id,
                    language="en",
                    text=calls[i % len(calls)].text,
                    segments=calls[i % len(calls)].to_json()["segments"],
                )
                for i, r in enumerate(records)
            ],
            batch_size=500,
        )
        started = time.perf_counter()
        for record in records:
            await analyze_record(record, "general")
        elapsed = time.perf_counter() - started
        await Tortoise.close_connections()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return [
        Row(
            case=f"re-analyze {args.stored:,} stored transcripts (`general`, via PostgreSQL)",
            runs=args.stored,
            per_second=args.stored / elapsed,
            ms=1000.0 * elapsed / args.stored,
            call_seconds=calls[0].duration,
            note=f"{args.stored_minutes:g} min each; total {elapsed:.1f} s",
        )
    ]


PARTS: list[Callable[[argparse.Namespace], list[Row]]] = [part_engine, part_stored]


def print_table(rows: list[Row]) -> None:
    header = ["case", "runs", "analyses/s", "ms/analysis", "x real time", "input"]
    cells = [
        [r.case, str(r.runs), f"{r.per_second:,.1f}", f"{r.ms:.2f}",
         f"{r.per_second * r.call_seconds:,.0f}", r.note]
        for r in rows
    ]  # fmt: skip
    print("\n".join(markdown_table(header, cells, align="lrrrrl")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="synthetic call length")
    parser.add_argument("--language", choices=sorted(SCRIPTS), default="en", help="of the call")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per profile")
    parser.add_argument("--stored", type=int, default=10_000, help="transcripts to re-analyze")
    parser.add_argument("--stored-minutes", type=float, default=3.0, help="their length")
    parser.add_argument(
        "--admin-dsn",
        default=DEFAULT_ADMIN_DSN,
        help="a PostgreSQL where the benchmark may create and drop a database",
    )
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for part in PARTS:
        rows.extend(part(args))
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
