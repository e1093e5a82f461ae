"""The dashboard in headless Chromium, as a supervisor and an agent would use it.

Debian's chromium, driven by Playwright's Python package (no browser download); skipped when
either is missing. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import base64
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aica.models import Role
from aica.services import users
from tests.audio import AudioFactory, Turn
from tests.conftest import (
    Tenant,
    finished,
    free_port,
    gql,
    make_project,
    make_record,
    make_settings,
    running_server,
    upload,
)

playwright = pytest.importorskip("playwright.async_api", reason="pip install playwright")
CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"
    ),
]
expect = playwright.expect
PLAYER_NEAR = "start => Math.abs(document.getElementById('player').currentTime - start) < 1"
CREATE_RULE = "mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }"
ARTIFACTS = Path(__file__).parent / "artifacts"
WAIT_MS = 180_000
PASSWORD = "correct horse battery"

AGENT_LINE = "Hello, thank you for calling support. My name is John. How can I help you today?"
CUSTOMER_LINE = "My order arrived broken and I would like a refund please."

# Every change the page makes to a call's row, as the user would have seen it.
WATCH_ROWS = """() => {
  window.stillTheSamePage = true;
  window.seen = [];
  const view = document.getElementById("view");
  new MutationObserver(() => {
    for (const tr of view.querySelectorAll("#records tr[data-record-id]")) {
      const bar = tr.querySelector("progress");
      window.seen.push([tr.dataset.recordId, tr.dataset.status, bar ? bar.value : null]);
    }
  }).observe(view, { subtree: true, childList: true });
}"""


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture
async def browser() -> AsyncIterator[playwright.Browser]:
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


async def email_of(client: httpx.AsyncClient, tenant: Tenant, user_id: str) -> str:
    body = await gql(
        client, "query ($id: ID!) { user(id: $id) { email } }", {"id": user_id}, tenant.headers
    )
    email: str = body["data"]["user"]["email"]
    return email


async def sign_in_with_token(page: playwright.Page, url: str, token: str) -> None:
    await page.goto(url + "/")
    await page.fill("#token-form [name=token]", token)
    await page.click("#token-form [type=submit]")


async def screenshot(page: playwright.Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


async def test_a_call_arrives_progresses_completes_plays_and_is_reviewed_without_reload(
    base_url: str,
    client: httpx.AsyncClient,
    tenant: Tenant,
    audio: AudioFactory,
    browser: playwright.Browser,
) -> None:
    project = await make_project(tenant.org_id)
    rule = {
        "name": "Every call",
        "projectId": project.id,
        "condition": {"field": "qualityScore", "operator": "lte", "value": 100},
        "actions": ["webhook"],
    }
    created = await gql(client, CREATE_RULE, {"input": rule}, tenant.headers)
    assert "errors" not in created, created
    admin = await tenant.add(Role.admin)
    await users.set_password(await email_of(client, tenant, admin.user_id), PASSWORD)
    page = await browser.new_page()
    audio_statuses: list[int] = []
    page.on("response", lambda r: "/audio" in r.url and audio_statuses.append(r.status))

    await page.goto(base_url + "/")
    await page.fill("#sign-in [name=email]", await email_of(client, tenant, admin.user_id))
    await page.fill("#sign-in [name=password]", PASSWORD)
    await page.click("#sign-in [type=submit]")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    await expect(page.locator("#project")).to_have_value(project.id)
    await expect(page.locator("#records")).to_be_visible()
    await page.evaluate(WATCH_ROWS)

    call = audio.call([Turn(0, 0.0, AGENT_LINE), Turn(1, 6.0, CUSTOMER_LINE)])
    record_id = (await upload(client, tenant, project.id, call)).json()["data"]["id"]
    row = page.locator(f"#records tr[data-record-id='{record_id}']")
    await expect(row).to_be_attached(timeout=30_000)
    await expect(row).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    record = await finished(client, tenant, record_id)
    assert record["status"] == "completed"
    await expect(row.locator(".score-cell")).to_have_text(str(record["qualityScore"]))
    await expect(page.locator("#alerts .alert")).to_contain_text("qualityScore lte 100")
    await expect(row).to_have_class(re.compile(r"\balerted\b"))

    seen = [
        (status, value)
        for rid, status, value in await page.evaluate("window.seen")
        if rid == record_id
    ]
    assert any(status in ("pending", "processing") for status, _ in seen), seen
    assert any(value is not None and value < 100 for _, value in seen), seen
    assert await page.evaluate("window.stillTheSamePage") is True
    assert await page.locator("[data-admin]").count() >= 2  # the drop zone and Delete
    await expect(page.locator("#agents")).to_contain_text("John Smith")
    assert await page.locator("svg.chart").count() == 2
    await screenshot(page, "dashboard-calls")

    await row.click()
    segments = page.locator("#conversation .segment")
    await expect(segments.first).to_be_visible()
    transcript = await gql(
        client,
        "query ($id: ID!) { transcript(recordId: $id) { segments { start speaker } } }",
        {"id": record_id},
        tenant.headers,
    )
    customer = next(
        s for s in transcript["data"]["transcript"]["segments"] if s["speaker"] == "customer"
    )
    assert customer["start"] > 3  # said from 6 s on: a seek that did nothing would show 0
    await page.locator(".segment[data-speaker=customer]").first.click()
    await page.wait_for_function(PLAYER_NEAR, arg=customer["start"], timeout=30_000)
    duration = await page.evaluate("document.getElementById('player').duration")
    assert duration == pytest.approx(record["duration"], abs=1.5)
    assert 206 in audio_statuses, audio_statuses  # the player asked by Range
    evidence = page.locator("#scorecard .evidence").first
    evidence_start = float(await evidence.get_attribute("data-start") or "nan")
    assert abs(evidence_start - customer["start"]) > 2  # the agent's line, not where we are
    await evidence.click()
    await page.wait_for_function(PLAYER_NEAR, arg=evidence_start, timeout=30_000)

    await page.fill("[name=text]", "Customer wants a refund")
    await page.click("text=Annotate")
    await expect(page.locator("#annotations")).to_contain_text("Customer wants a refund")

    await page.select_option("#review [name=status]", "needs_improvement")
    await page.fill("#review [name=score]", "70")
    await page.fill("#review [name=comment]", "The closing was missing")
    await page.click("#review [type=submit]")
    await expect(page.locator("#current-review")).to_contain_text("needs_improvement")
    await screenshot(page, "dashboard-record")

    stored = await gql(
        client,
        "query ($id: ID!) { record(id: $id) { analysis { review { status score comment } } } }",
        {"id": record_id},
        tenant.headers,
    )
    review = stored["data"]["record"]["analysis"]["review"]
    assert review == {
        "status": "needs_improvement",
        "score": 70.0,
        "comment": "The closing was missing",
    }
    assert await page.evaluate("window.stillTheSamePage") is True


async def test_a_dropped_recording_uploads_with_progress_appears_and_its_page_fills_in(
    base_url: str,
    client: httpx.AsyncClient,
    tenant: Tenant,
    audio: AudioFactory,
    browser: playwright.Browser,
) -> None:
    project = await make_project(tenant.org_id)
    page = await browser.new_page()
    await sign_in_with_token(page, base_url, tenant.owner.token)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    recording = audio.speech(AGENT_LINE)
    payload = base64.b64encode(recording.read_bytes()).decode()

    dropped = await page.evaluate_handle(
        """([name, payload]) => {
          const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], name, { type: "audio/wav" }));
          return data;
        }""",
        [recording.name, payload],
    )
    await page.dispatch_event("#dropzone", "drop", {"dataTransfer": dropped})

    upload_row = page.locator("#dropzone .upload-row")
    await expect(upload_row).to_contain_text("uploaded")
    assert await upload_row.locator("progress").evaluate("bar => bar.value") == 100
    row = page.locator("#records tr[data-record-id]", has_text=recording.name)
    await expect(row).to_be_attached()
    # Opened while it is still processing, the call's page fills in when it completes.
    await page.evaluate("window.stillTheSamePage = true")
    await row.click()
    await expect(page.locator("#conversation .segment").first).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#scorecard")).to_be_visible()
    assert await page.evaluate("window.stillTheSamePage") is True
    listed = await gql(
        client,
        "query ($p: ID!) { records(projectId: $p) { items { fileName } } }",
        {"p": project.id},
        tenant.headers,
    )
    assert listed["data"]["records"]["items"] == [{"fileName": recording.name}]


async def test_the_page_shows_it_is_offline_reconnects_and_catches_up(
    base_url: str, database_url: str, tenant: Tenant, browser: playwright.Browser
) -> None:
    """A server restart: the badge says offline, the socket comes back by itself, and a call
    created meanwhile is in the list without a reload."""
    project = await make_project(tenant.org_id)
    port = free_port()
    page = await browser.new_page()
    async with running_server(
        make_settings(), database_url, lifespan="off", port=port, grace=1
    ) as url:
        await sign_in_with_token(page, url, tenant.owner.token)
        await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        await page.evaluate("window.stillTheSamePage = true")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
    await expect(page.locator("#connection")).to_contain_text("retrying")
    meanwhile = await make_record(project, file_name="while-offline.wav", status="completed")
    async with running_server(make_settings(), database_url, lifespan="off", port=port, grace=1):
        await expect(page.locator("#connection")).to_have_attribute(
            "data-state", "online", timeout=60_000
        )
        await expect(page.locator(f"tr[data-record-id='{meanwhile.id}']")).to_be_attached()
        assert await page.evaluate("window.stillTheSamePage") is True


async def test_an_agent_sees_only_their_calls_and_no_admin_or_review_controls(
    base_url: str,
    client: httpx.AsyncClient,
    tenant: Tenant,
    audio: AudioFactory,
    browser: playwright.Browser,
) -> None:
    project = await make_project(tenant.org_id)
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    own = (await upload(client, tenant, project.id, audio.speech(AGENT_LINE))).json()["data"]
    theirs = await upload(
        client, tenant, project.id, audio.speech(CUSTOMER_LINE), '{"agentName": "Jane Doe"}'
    )
    assert (await finished(client, tenant, own["id"]))["status"] == "completed"

    page = await browser.new_page()
    await sign_in_with_token(page, base_url, agent.token)
    await expect(page.locator(f"tr[data-record-id='{own['id']}']")).to_be_visible()
    await expect(page.locator("#whoami")).to_have_text("agent")
    other_row = page.locator(f"tr[data-record-id='{theirs.json()['data']['id']}']")
    assert await other_row.count() == 0
    assert await page.locator("[data-admin]").count() == 0
    assert await page.locator("#dropzone").count() == 0
    await screenshot(page, "dashboard-agent-calls")

    await page.click(f"tr[data-record-id='{own['id']}']")
    await expect(page.locator("#scorecard")).to_be_visible()
    await expect(page.locator("#categories")).to_contain_text("greeting")
    assert "[object" not in await page.locator("#scorecard").inner_text()
    assert await page.locator("#review").count() == 0
    assert await page.locator("[data-admin]").count() == 0
    await screenshot(page, "dashboard-agent-record")
