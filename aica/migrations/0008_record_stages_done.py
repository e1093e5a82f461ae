from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.fields.db_defaults import SqlDefault

class Migration(migrations.Migration):
    dependencies = [('models', '0007_transcription_warnings')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Record',
            name='stages_done',
            field=fields.JSONField(default=list, db_default=SqlDefault("'[]'::jsonb")),
        ),
    ]
