"""Install pgqueuer's tables, types and triggers (the job queue lives in our database)."""

from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment
from tortoise import migrations
from tortoise.migrations import operations as ops


async def install_queue(apps, schema_editor):
    await schema_editor.client.execute_script(
        QueryBuilderEnvironment().build_install_query(create_schema=False)
    )


async def uninstall_queue(apps, schema_editor):
    await schema_editor.client.execute_script(QueryBuilderEnvironment().build_uninstall_query())


class Migration(migrations.Migration):
    dependencies = [("models", "0002_pipeline")]

    initial = False

    operations = [ops.RunPython(install_queue, uninstall_queue)]
