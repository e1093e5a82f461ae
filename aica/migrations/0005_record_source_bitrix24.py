from tortoise import migrations
from tortoise.migrations import operations as ops
from aica.models.records import RecordSource
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_analyses')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Record',
            name='source',
            field=fields.CharEnumField(default=RecordSource.upload, description='upload: upload\ningest: ingest\nbitrix24: bitrix24', enum_type=RecordSource, max_length=16),
        ),
    ]
