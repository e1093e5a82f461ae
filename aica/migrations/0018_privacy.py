from tortoise import migrations
from tortoise.migrations import operations as ops
from aica.models.audit import AuditAction, new_aud_id
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

_KEY = "org_id, project_id, status, (created_at AT TIME ZONE 'UTC')::date"
_UPSERT = """
    INSERT INTO record_counts AS c (org_id, project_id, status, day, n)
    SELECT org_id, project_id, status, day, sum(delta) FROM ({rows}) AS d
    GROUP BY org_id, project_id, status, day HAVING sum(delta) <> 0
    ORDER BY org_id, project_id, status, day
    ON CONFLICT (org_id, project_id, status, day) DO UPDATE SET n = c.n + excluded.n;
"""


def _count_records(live: str) -> str:
    """The counting trigger of 0016, counting only the rows ``live`` keeps."""
    old = f"SELECT {_KEY} AS day, -1 AS delta FROM old_rows{live}"
    new = f"SELECT {_KEY} AS day, 1 AS delta FROM new_rows{live}"
    return f"""CREATE OR REPLACE FUNCTION count_records() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_UPSERT.format(rows=new)}
        ELSIF TG_OP = 'DELETE' THEN {_UPSERT.format(rows=old)}
        ELSE {_UPSERT.format(rows=f"{old} UNION ALL {new}")}
        END IF;
        RETURN NULL;
    END $$"""


# A record marked for deletion leaves the counters when it is marked (an update from counted
# to uncounted), and its final DELETE counts nothing.
_HIDDEN_UNCOUNTED = [
    _count_records(" WHERE deleting_at IS NULL"),
    "CREATE INDEX records_deleting ON records (deleting_at) WHERE deleting_at IS NOT NULL",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0017_speakers')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Record',
            name='deleting_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Project',
            name='retention_days',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Project',
            name='deleting_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_aud_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.CASCADE)),
                ('actor_id', fields.CharField(null=True, max_length=32)),
                ('action', fields.CharEnumField(description='audio_listened: audio.listened\naudio_downloaded: audio.downloaded\naudio_original: audio.original\nrecord_deleted: record.deleted\nproject_deleted: project.deleted\nretention_purged: retention.purged\ncustomer_erased: customer.erased\nmember_role_changed: member.role_changed\ntoken_created: token.created\ntoken_revoked: token.revoked\nbudget_changed: budget.changed\nwebhook_created: webhook.created\nwebhook_updated: webhook.updated\nwebhook_deleted: webhook.deleted', enum_type=AuditAction, max_length=32)),
                ('record_id', fields.CharField(null=True, max_length=32)),
                ('target_id', fields.CharField(null=True, max_length=32)),
                ('detail', fields.JSONField(default=dict)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_events', 'app': 'models', 'indexes': [Index(fields=['org_id', 'created_at', 'id']), Index(fields=['created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunSQL(
            _HIDDEN_UNCOUNTED,
            reverse_sql=["DROP INDEX records_deleting", _count_records("")],
        ),
    ]
