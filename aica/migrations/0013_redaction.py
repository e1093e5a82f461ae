from tortoise import migrations
from tortoise.migrations import operations as ops
from aica.models.projects import RedactionMode
from tortoise import fields
from tortoise.fields.db_defaults import SqlDefault

class Migration(migrations.Migration):
    dependencies = [('models', '0012_billing')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Project',
            name='redaction',
            field=fields.CharEnumField(default=RedactionMode.off, db_default='off', description='off: off\ntext: text\ntext_and_audio: text+audio', enum_type=RedactionMode, max_length=16),
        ),
        ops.AddField(
            model_name='Record',
            name='redacted_audio_key',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Record',
            name='redactions',
            field=fields.JSONField(default=list, db_default=SqlDefault("'[]'::jsonb")),
        ),
    ]
