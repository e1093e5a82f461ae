from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('models', '0010_alerts_webhooks')]

    initial = False

    operations = [
        ops.RunSQL(
            [
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                """CREATE TABLE search_documents (
                    record_id VARCHAR(32) NOT NULL REFERENCES records (id) ON DELETE CASCADE,
                    type VARCHAR(16) NOT NULL,
                    org_id VARCHAR(32) NOT NULL,
                    project_id VARCHAR(32) NOT NULL,
                    agent_name VARCHAR(200),
                    agent_external_id VARCHAR(200),
                    status VARCHAR(16) NOT NULL,
                    language VARCHAR(8),
                    created_at TIMESTAMPTZ NOT NULL,
                    config REGCONFIG NOT NULL,
                    body TEXT NOT NULL,
                    segments JSONB NOT NULL DEFAULT '[]'::jsonb,
                    tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector(config, body)) STORED,
                    PRIMARY KEY (record_id, type)
                )""",
                "CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv)",
                "CREATE INDEX search_documents_org_created ON search_documents (org_id, created_at)",
                "CREATE INDEX search_documents_project_created"
                " ON search_documents (org_id, project_id, created_at)",
                """CREATE TABLE search_terms (
                    org_id VARCHAR(32) NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
                    term TEXT NOT NULL,
                    PRIMARY KEY (org_id, term)
                )""",
                "CREATE INDEX search_terms_trgm ON search_terms USING GIN (term gin_trgm_ops)",
            ],
            reverse_sql=["DROP TABLE search_terms", "DROP TABLE search_documents"],
        ),
    ]
