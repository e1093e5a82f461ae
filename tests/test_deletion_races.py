"""A deletion racing a record being added: the record goes with the project, never stays
behind it (hidden with a project that is never dropped) nor fails to insert."""

from __future__ import annotations

import asyncio

from tortoise.transactions import in_transaction

from aica.models import Project, Record, RecordSource, Role
from aica.services import deletion
from aica.services.access import Actor
from tests.conftest import Tenant, make_project
from tests.stored_calls import settings, storage


async def test_a_record_added_while_its_project_is_deleted_is_deleted_with_it(
    tenant: Tenant,
) -> None:
    project = await make_project(tenant.org_id)
    owner = Actor(tenant.owner.user_id, tenant.org_id, Role.owner)
    holding = asyncio.Event()

    async def add_record() -> str:
        async with in_transaction() as connection:
            assert await deletion.hold_live(Project, project.id, connection)
            holding.set()
            await asyncio.sleep(0.5)  # the deletion starts meanwhile
            record = await Record.create(
                org_id=tenant.org_id,
                project_id=project.id,
                source=RecordSource.upload,
                using_db=connection,
            )
        return record.id

    adding = asyncio.create_task(add_record())
    await holding.wait()
    await deletion.delete_project(owner, settings(), storage(), project.id)
    record_id = await adding

    assert not await Record.exists(pk=record_id)
    assert not await Project.exists(pk=project.id)


async def test_a_project_or_record_being_deleted_is_not_held_live(tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    record = await Record.create(
        org_id=tenant.org_id, project_id=project.id, source=RecordSource.upload
    )
    await deletion.mark(settings(), [record.id])
    await Project.filter(pk=project.id).update(deleting_at=project.created_at)

    async with in_transaction() as connection:
        assert not await deletion.hold_live(Project, project.id, connection)
        assert not await deletion.hold_live(Record, record.id, connection)
