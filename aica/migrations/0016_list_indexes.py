from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_billing')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Record',
            name=None,
            fields=['org_id', 'created_at'],
        ),
        ops.RemoveIndex(
            model_name='Record',
            name=None,
            fields=['org_id', 'project_id', 'created_at'],
        ),
        ops.RemoveIndex(
            model_name='Record',
            name=None,
            fields=['org_id', 'status', 'created_at'],
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'project_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'status', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'agent_name', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'agent_external_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'quality_score', 'id']),
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'project_id', 'quality_score', 'id']),
        ),
        ops.AddIndex(
            model_name='Record',
            index=Index(fields=['org_id', 'duration', 'id']),
        ),
    ]
