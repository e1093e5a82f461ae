"""The dashboard's files: served at /, shipped in the package, and self-contained (offline)."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pytest

from aica.app import DASHBOARD
from tests.conftest import assert_rest_error

ROOT = Path(__file__).parent.parent
FILES = sorted(p for p in DASHBOARD.rglob("*") if p.is_file())


async def test_the_page_and_its_modules_are_served_at_the_root(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/main.js">' in page.text
    module = await client.get("/js/main.js")
    assert module.status_code == 200
    assert "javascript" in module.headers["content-type"]
    for response in (page, module):
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy


async def test_unknown_paths_still_answer_the_error_envelope(client: httpx.AsyncClient) -> None:
    assert_rest_error(await client.get("/no/such/page"), 404, "NOT_FOUND")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DASHBOARD)))
def test_the_page_loads_nothing_from_the_network(path: Path) -> None:
    """No CDN: the dashboard works where the server has no internet (SVG's namespace is a
    name, not a request)."""
    text = path.read_text()
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", text))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls


def test_every_dashboard_file_is_in_the_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["aica"]
    package = DASHBOARD.parent
    missing = [
        str(p.relative_to(package))
        for p in FILES
        if not any(fnmatch(str(p.relative_to(package)), g) for g in globs)
    ]
    assert FILES and not missing
