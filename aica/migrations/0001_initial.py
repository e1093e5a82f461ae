from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from aica.models.orgs import Role, TokenKind, new_mem_id, new_org_id, new_tok_id, new_usr_id
from aica.models.projects import new_proj_id
from aica.models.records import RecordSource, RecordStatus, new_rec_id
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Org',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_org_id, unique=True, db_index=True, max_length=32)),
                ('name', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'orgs', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_proj_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='projects', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('profile', fields.CharField(default='general', max_length=64)),
                ('language', fields.CharField(default='auto', max_length=8)),
                ('agent_channel', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'projects', 'app': 'models', 'indexes': [Index(fields=['org_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Record',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_rec_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='records', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='records', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharField(default='call', max_length=16)),
                ('status', fields.CharEnumField(default=RecordStatus.pending, description='pending: pending\nprocessing: processing\ncompleted: completed\nfailed: failed', enum_type=RecordStatus, max_length=16)),
                ('progress', fields.SmallIntField(default=0)),
                ('error', fields.TextField(null=True, unique=False)),
                ('duration', fields.FloatField(null=True)),
                ('quality_score', fields.FloatField(null=True)),
                ('agent_name', fields.CharField(null=True, max_length=200)),
                ('agent_external_id', fields.CharField(null=True, max_length=200)),
                ('customer_phone', fields.CharField(null=True, max_length=64)),
                ('source', fields.CharEnumField(default=RecordSource.upload, description='upload: upload\ningest: ingest', enum_type=RecordSource, max_length=16)),
                ('external_id', fields.CharField(null=True, max_length=200)),
                ('file_name', fields.CharField(null=True, max_length=400)),
                ('format', fields.CharField(null=True, max_length=16)),
                ('size', fields.BigIntField(null=True)),
                ('sha256', fields.CharField(null=True, max_length=64)),
                ('channels', fields.SmallIntField(null=True)),
                ('language', fields.CharField(null=True, max_length=8)),
                ('metadata', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'records', 'app': 'models', 'unique_together': (('org', 'source', 'external_id'),), 'indexes': [Index(fields=['org_id', 'created_at']), Index(fields=['org_id', 'project_id', 'created_at']), Index(fields=['org_id', 'status', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_usr_id, unique=True, db_index=True, max_length=32)),
                ('email', fields.CharField(unique=True, max_length=320)),
                ('name', fields.CharField(default='', max_length=200)),
                ('password_hash', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_mem_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='agent: agent\nsupervisor: supervisor\nadmin: admin\nowner: owner', enum_type=Role, max_length=16)),
                ('agent_name', fields.CharField(null=True, max_length=200)),
                ('agent_external_id', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'memberships', 'app': 'models', 'unique_together': (('org', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Token',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_tok_id, unique=True, db_index=True, max_length=32)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharEnumField(description='session: session\npersonal: personal\nservice: service', enum_type=TokenKind, max_length=16)),
                ('name', fields.CharField(default='', max_length=200)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', null=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tokens', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
