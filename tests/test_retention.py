"""Retention: a project's ``retentionDays`` purges its older records (audio, redacted copy,
transcript, analyses, search entries) and nothing else; metered usage stays; each run is
audited; a purge interrupted after its commit leaves the record hidden and the next run
finishes it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tortoise.transactions import in_transaction

from aica.models import AuditAction, AuditEvent, Record, RecordSource, UsageEvent, UsageKind
from aica.services import billing, deletion, retention
from tests.audio import AudioFactory
from tests.conftest import Tenant, assert_rest_error, gql, make_project, make_settings
from tests.stored_calls import (
    files_of,
    rows_left,
    search_documents,
    settings,
    storage,
    stored_call,
)
from tests.test_cli import ROOT, aica

API = "/api/v1"
NOW = datetime.now(UTC)
UPDATE_PROJECT = """
mutation ($id: ID!, $days: Int) {
  updateProject(id: $id, input: {settings: {retentionDays: $days}}) { settings { retentionDays } }
}
"""
SEARCH = "query ($q: String!) { search(q: $q) { total items { recordId } } }"


@pytest.fixture
def served_env(database_url: str) -> dict[str, str]:
    """``aica`` on the session server's database and data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    env.update(
        AICA_DATABASE_URL=database_url,
        AICA_DATA_DIR=str(make_settings().data_dir),
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def of_org(purge: retention.Purge, org_id: str) -> dict[str, list[str]]:
    return purge.expired.get(org_id, {})


async def visible(client: httpx.AsyncClient, tenant: Tenant, record_id: str) -> bool:
    response = await client.get(f"{API}/records/{record_id}", headers=tenant.headers)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


async def test_retention_days_is_a_project_setting_zero_clears_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)

    set_ = await gql(client, UPDATE_PROJECT, {"id": project.id, "days": 30}, tenant.headers)
    cleared = await gql(client, UPDATE_PROJECT, {"id": project.id, "days": 0}, tenant.headers)
    refused = await gql(client, UPDATE_PROJECT, {"id": project.id, "days": -5}, tenant.headers)

    assert set_["data"]["updateProject"]["settings"] == {"retentionDays": 30}
    assert cleared["data"]["updateProject"]["settings"] == {"retentionDays": None}
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["errors"][0]["extensions"]["field"] == "settings.retentionDays"


async def test_a_run_purges_exactly_the_expired_records_and_keeps_usage(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    # Given: a 30-day project with two calls past it and one within it, a project that keeps
    # calls for good, and another org's equally old call
    kept_30 = await make_project(tenant.org_id, "Thirty days", retention_days=30)
    forever = await make_project(tenant.org_id, "Forever")
    elsewhere = await make_project(other_tenant.org_id, "Globex line")
    old = [await stored_call(kept_30, audio, created_at=days_ago(d)) for d in (31, 400)]
    young = await stored_call(kept_30, audio, created_at=days_ago(29))
    timeless = await stored_call(forever, audio, created_at=days_ago(400))
    foreign = await stored_call(elsewhere, audio, created_at=days_ago(400))
    for record in old:
        await billing.meter(settings(), record, UsageKind.processing, f"{record.id}:processing")
    old_ids = sorted(r.id for r in old)

    # When
    purged = await retention.purge(settings(), storage())

    # Then: the two expired calls are gone everywhere, the rest is untouched
    assert of_org(purged, tenant.org_id) == {kept_30.id: old_ids}
    assert other_tenant.org_id not in purged.expired
    assert set(old_ids) <= set(purged.finished)
    assert await rows_left(*old_ids) == {"records": 0, "transcripts": 0, "analyses": 0}
    assert not any(path.exists() for r in old for path in files_of(r))
    assert await search_documents(*old_ids) == 0
    for record in (young, timeless, foreign):
        assert all(path.exists() for path in files_of(record))
        assert await search_documents(record.id) > 0
    assert await visible(client, tenant, young.id) and await visible(client, tenant, timeless.id)
    assert await visible(client, other_tenant, foreign.id)
    # metered usage stays
    usage = await UsageEvent.filter(record_id__in=old_ids).values_list("record_id", flat=True)
    assert sorted(usage) == old_ids
    # one audit row for the org's purge, by the service itself
    rows = await AuditEvent.filter(org_id=tenant.org_id, action=AuditAction.retention_purged)
    assert [(r.actor_id, r.detail) for r in rows] == [
        (None, {"records": 2, "projects": {kept_30.id: 2}})
    ]
    assert not await AuditEvent.filter(
        org_id=other_tenant.org_id, action=AuditAction.retention_purged
    ).exists()


async def test_a_dry_run_reports_what_would_go_and_changes_nothing(
    tenant: Tenant, audio: AudioFactory, served_env: dict[str, str]
) -> None:
    project = await make_project(tenant.org_id, retention_days=7)
    expired = await stored_call(project, audio, created_at=days_ago(8))
    audits_before = await AuditEvent.all().count()

    dry = await retention.purge(settings(), storage(), dry_run=True)
    printed = await aica(served_env, "retention", "--dry-run")

    assert of_org(dry, tenant.org_id) == {project.id: [expired.id]}
    assert dry.finished == []
    assert printed.returncode == 0, printed.stderr
    assert f"would purge\t{tenant.org_id}\t{project.id}\t1 records\n\t{expired.id}\n" in (
        printed.stdout
    )
    assert await rows_left(expired.id) == {"records": 1, "transcripts": 1, "analyses": 1}
    assert (await Record.get(pk=expired.id)).deleting_at is None
    assert all(path.exists() for path in files_of(expired))
    assert await search_documents(expired.id) > 0
    assert await AuditEvent.all().count() == audits_before


async def test_a_failed_audio_delete_leaves_the_record_hidden_until_a_rerun_finishes_it(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    # Given: an expired call whose redacted copy cannot be deleted (a directory is in its
    # place: unlink fails, even as root)
    project = await make_project(tenant.org_id, retention_days=1)
    record = await stored_call(project, audio, created_at=days_ago(2), agent_name="Quillon")
    original, copy = files_of(record)
    copy.unlink()
    copy.mkdir()
    (copy / "blocker").write_bytes(b"x")

    # When: the run fails to finish it
    first = await retention.purge(settings(), storage())

    # Then: it is marked and hidden everywhere, its rows kept for the next run
    assert record.id in first.pending and record.id not in first.finished
    assert (await Record.get(pk=record.id)).deleting_at is not None
    assert not await visible(client, tenant, record.id)
    assert await hidden_from_lists(client, tenant, record.id, project.id)
    assert await search_documents(record.id) == 0

    # When: storage works again, the next run finishes it
    (copy / "blocker").unlink()
    copy.rmdir()
    second = await retention.purge(settings(), storage())

    assert record.id in second.finished and record.id not in second.pending
    assert await rows_left(record.id) == {"records": 0, "transcripts": 0, "analyses": 0}
    assert not original.exists()
    assert (
        await AuditEvent.filter(org_id=tenant.org_id, action=AuditAction.retention_purged).count()
        == 1
    )  # the second run had nothing new of this org to purge: no row for it


async def hidden_from_lists(
    client: httpx.AsyncClient, tenant: Tenant, record_id: str, project_id: str
) -> bool:
    """Not in the record and analysis lists, totals, stats or search."""
    listed = (await client.get(f"{API}/records", headers=tenant.headers)).json()
    analyses = (await client.get(f"{API}/analyses", headers=tenant.headers)).json()
    stats = (await client.get(f"{API}/projects/{project_id}/stats", headers=tenant.headers)).json()
    found = await gql(client, SEARCH, {"q": "Quillon"}, tenant.headers)
    return (
        record_id not in [r["id"] for r in listed["data"]]
        and listed["meta"]["total"] == 0
        and record_id not in [a["recordId"] for a in analyses["data"]]
        and stats["data"]["totalRecords"] == 0
        and found["data"]["search"] == {"total": 0, "items": []}
    )


async def test_a_deletion_killed_after_its_commit_is_finished_by_the_retention_command(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory, served_env: dict[str, str]
) -> None:
    # Given: a deletion whose process died right after marking (the commit is all there is)
    project = await make_project(tenant.org_id)
    record = await stored_call(
        project, audio, agent_name="Quillon", source=RecordSource.ingest, external_id="crm-77"
    )
    async with in_transaction():
        assert await deletion.mark(settings(), [record.id]) == [record.id]
    assert not await visible(client, tenant, record.id)
    assert await hidden_from_lists(client, tenant, record.id, project.id)

    # and a webhook sender's re-delivery of the call waits for the deletion (409, not the
    # hidden record)
    redelivered = await client.post(
        f"{API}/records/ingest",
        json={"projectId": project.id, "externalId": "crm-77", "audioUrl": "https://x.io/a.mp3"},
        headers=tenant.headers,
    )
    assert_rest_error(redelivered, 409, "CONFLICT")

    # When: the retention command runs (as the scheduled job would)
    ran = await aica(served_env, "retention")

    # Then
    assert ran.returncode == 0, ran.stderr
    assert await rows_left(record.id) == {"records": 0, "transcripts": 0, "analyses": 0}
    assert not any(path.exists() for path in files_of(record))


async def until_gone(record_id: str, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if not await Record.exists(pk=record_id):
                return
            await asyncio.sleep(0.5)


@pytest.mark.slow
async def test_a_worker_finishes_interrupted_deletions_at_start_and_purges_on_schedule(
    tenant: Tenant, audio: AudioFactory, served_env: dict[str, str]
) -> None:
    # Given: a deletion killed after its commit, and a call past its project's retention
    interrupted = await stored_call(await make_project(tenant.org_id), audio)
    async with in_transaction():
        await deletion.mark(settings(), [interrupted.id])
    expired = await stored_call(
        await make_project(tenant.org_id, retention_days=1), audio, created_at=days_ago(2)
    )

    # When: a worker runs, retention every minute
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aica.cli",
        "worker",
        env={**served_env, "AICA_RETENTION_SCHEDULE": "* * * * *"},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        # Then: it finishes the interrupted one as it starts, the expired one on schedule
        await until_gone(interrupted.id, 60)
        await until_gone(expired.id, 130)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(worker.communicate(), 60)
    assert worker.returncode == 0, stderr.decode()[-2000:]
    assert not any(path.exists() for r in (interrupted, expired) for path in files_of(r))
    assert (
        await AuditEvent.filter(org_id=tenant.org_id, action=AuditAction.retention_purged).count()
        == 1
    )


def test_the_schedule_must_be_a_cron_expression(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cron"):
        make_settings(retention_schedule="every hour")
