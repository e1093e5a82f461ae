from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0016_list_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Record',
            name='speaker_separation',
            field=fields.JSONField(null=True),
        ),
    ]
