from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

_KEY = "org_id, project_id, status, (created_at AT TIME ZONE 'UTC')::date"
_UPSERT = """
    INSERT INTO record_counts AS c (org_id, project_id, status, day, n)
    SELECT org_id, project_id, status, day, sum(delta) FROM ({rows}) AS d
    GROUP BY org_id, project_id, status, day HAVING sum(delta) <> 0
    ORDER BY org_id, project_id, status, day
    ON CONFLICT (org_id, project_id, status, day) DO UPDATE SET n = c.n + excluded.n;
"""
_OLD = f"SELECT {_KEY} AS day, -1 AS delta FROM old_rows"
_NEW = f"SELECT {_KEY} AS day, 1 AS delta FROM new_rows"
# Exact list totals without counting a million rows: records per org, project, status and
# UTC day, kept by statement triggers (one upsert per statement, COPY included; counter rows
# locked in one order, so concurrent writers cannot deadlock on them).
_COUNTS = [
    "LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE",
    """CREATE TABLE record_counts (
        org_id VARCHAR(32) NOT NULL,
        project_id VARCHAR(32) NOT NULL,
        status VARCHAR(16) NOT NULL,
        day DATE NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (org_id, project_id, status, day)
    )""",
    _UPSERT.format(rows=f"SELECT {_KEY} AS day, 1 AS delta FROM records"),
    f"""CREATE FUNCTION count_records() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_UPSERT.format(rows=_NEW)}
        ELSIF TG_OP = 'DELETE' THEN {_UPSERT.format(rows=_OLD)}
        ELSE {_UPSERT.format(rows=f"{_OLD} UNION ALL {_NEW}")}
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER records_counted_insert AFTER INSERT ON records"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_records()",
    "CREATE TRIGGER records_counted_update AFTER UPDATE ON records"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION count_records()",
    "CREATE TRIGGER records_counted_delete AFTER DELETE ON records"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_records()",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0013_redaction')]

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
        ops.RunSQL(
            _COUNTS,
            reverse_sql=[
                "DROP TRIGGER records_counted_insert ON records",
                "DROP TRIGGER records_counted_update ON records",
                "DROP TRIGGER records_counted_delete ON records",
                "DROP FUNCTION count_records()",
                "DROP TABLE record_counts",
            ],
        ),
    ]
