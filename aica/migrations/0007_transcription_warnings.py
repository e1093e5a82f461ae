from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.fields.db_defaults import SqlDefault

class Migration(migrations.Migration):
    dependencies = [('models', '0006_invitations')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Project',
            name='languages',
            field=fields.JSONField(default=list, db_default=SqlDefault("'[]'::jsonb")),
        ),
        ops.AddField(
            model_name='Record',
            name='language_probability',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Record',
            name='warnings',
            field=fields.JSONField(default=list, db_default=SqlDefault("'[]'::jsonb")),
        ),
    ]
