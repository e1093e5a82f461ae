# ruff: noqa: RUF001  (Russian patterns)
"""Regex criteria run in linear time (RE2) yet match what Python's ``re`` matches."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest

from aica.analysis.patterns import PatternError, compile_pattern
from tests.conftest import Tenant, error_code, gql
from tests.test_analyses_api import CREATE_PROFILE, CUSTOM


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"\border (number|#) ?\d+", "Your order number 12345 and ORDER #7"),
        (r"\bзаказ\w*\b", "Ваш заказ номер, предзаказы и Заказчик"),
        (r"вс[её] готово", "ВСЕ ГОТОВО! все готово"),
        (r"\b\w+\b", "привет, мир! hello_world 42"),
        (r"^привет", "Привет всем"),
        (r"мир$", "привет мир"),
        (r"[^а-я ]+", "abc где 123"),
        (r"\W+", "a, b; c"),
        (r"\d{2,3}", "1 22 333 4444"),
        (r"a.*?b", "a x b y b"),
        (r"[\w-]+", "кто-то пришёл"),
        (r"(foo|bar)\b", "foobar foo bar"),
        (r"(?i)ПРИВЕТ", "привет"),
        (r"(?-i:Москва) \w+", "москва город, Москва Город"),
        (r"до свидания|всего доброго", "Спасибо, всего доброго!"),
    ],
)
def test_matches_are_the_ones_python_re_finds(pattern: str, text: str) -> None:
    expected = [m.span() for m in re.finditer(pattern, text, re.IGNORECASE) if m.end() > m.start()]
    assert expected
    assert list(compile_pattern(pattern).spans(text)) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?=x)a", "lookahead"),
        (r"(?<!не )хорошо", "lookahead"),
        (r"(?>a)", "atomic"),
        (r"a\Bb", r"\B"),
        (r"a{2000}", "repetition"),
    ],
)
def test_patterns_without_a_linear_time_form_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=re.escape(message)):
        compile_pattern(pattern)


def test_a_catastrophic_pattern_scores_a_call_in_a_moment() -> None:
    """``(.|.)*#`` froze a backtracking engine: run it in a child that a timeout can kill."""
    script = """
from aica.analysis import analyze, parse_profile
from aica.transcript import Segment, Transcript
text = "x" * 2000
criterion = {"key": "r", "description": "r", "kind": "regex", "pattern": "(.|.)*#"}
category = {"key": "c", "name": "C", "weight": 1, "criteria": [criterion]}
profile = parse_profile({"key": "p", "name": "P", "categories": [category]})
segment = Segment(0.0, 5.0, "unknown", 0, text, [])
call = Transcript(language="en", duration=6.0, channels=1, text=text, segments=[segment])
print(analyze(call, profile).criteria[0].passed)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


async def test_saving_a_profile_with_a_backreference_is_refused_naming_the_criterion(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    criterion = {"key": "r", "description": "d", "kind": "regex", "pattern": r"(\w+) \1"}
    definition = {
        **CUSTOM,
        "key": "backref",
        "categories": [{**CUSTOM["categories"][0], "criteria": [criterion]}],  # type: ignore[index]
    }
    body = await gql(client, CREATE_PROFILE, {"definition": definition}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"
    error = body["errors"][0]
    assert error["extensions"]["field"] == "categories[0].criteria[0].pattern"
    assert "backreferences" in error["message"]
