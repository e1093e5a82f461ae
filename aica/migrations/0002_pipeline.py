from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from aica.models.integrations import MissedCalls, new_b24_id
from aica.models.orgs import TokenKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Bitrix24Connection',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_b24_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='bitrix24_connections', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='bitrix24_connections', on_delete=OnDelete.CASCADE)),
                ('domain', fields.CharField(unique=True, max_length=255)),
                ('application_token_hash', fields.CharField(max_length=64)),
                ('rest_url', fields.TextField(null=True, unique=False)),
                ('missed_calls', fields.CharEnumField(default=MissedCalls.skip, description='skip: skip\nrecord: record', enum_type=MissedCalls, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'bitrix24_connections', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Transcript',
            fields=[
                ('record', fields.OneToOneField('models.Record', source_field='record_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='transcript', on_delete=OnDelete.CASCADE)),
                ('language', fields.CharField(max_length=8)),
                ('text', fields.TextField(unique=False)),
                ('segments', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'transcripts', 'app': 'models', 'pk_attr': 'record_id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Record',
            name='attempts',
            field=fields.SmallIntField(default=0),
        ),
        ops.AddField(
            model_name='Record',
            name='audio_key',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Record',
            name='audio_url',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Record',
            name='source_auth',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Record',
            name='stage',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AlterField(
            model_name='Token',
            name='kind',
            field=fields.CharEnumField(description='session: session\npersonal: personal\nservice: service\ninvite: invite', enum_type=TokenKind, max_length=16),
        ),
    ]
