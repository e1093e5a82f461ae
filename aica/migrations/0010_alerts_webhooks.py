from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from aica.models.alerts import new_alf_id, new_alr_id
from aica.models.webhooks import DeliveryKind, DeliveryStatus, new_msg_id, new_whk_id
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_record_stages_done')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AlertRule',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_alr_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='alert_rules', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='alert_rules', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('condition', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('actions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('email_recipients', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('cooldown_minutes', fields.IntField(null=True)),
                ('enabled', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'alert_rules', 'app': 'models', 'indexes': [Index(fields=['org_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertFiring',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_alf_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='alert_firings', on_delete=OnDelete.CASCADE)),
                ('rule', fields.ForeignKeyField('models.AlertRule', source_field='rule_id', db_constraint=True, to_field='id', related_name='firings', on_delete=OnDelete.CASCADE)),
                ('record', fields.ForeignKeyField('models.Record', source_field='record_id', db_constraint=True, to_field='id', related_name='alert_firings', on_delete=OnDelete.CASCADE)),
                ('project_id', fields.CharField(max_length=32)),
                ('analysis_id', fields.CharField(null=True, max_length=32)),
                ('trigger', fields.CharField(max_length=32)),
                ('agent_name', fields.CharField(null=True, max_length=200)),
                ('field', fields.CharField(max_length=100)),
                ('operator', fields.CharField(max_length=8)),
                ('matched', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('actions', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'alert_firings', 'app': 'models', 'unique_together': (('rule', 'record', 'trigger'),), 'indexes': [Index(fields=['org_id', 'created_at']), Index(fields=['rule_id', 'agent_name', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One rule matched one record (an analysis of it, or its failure).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_whk_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('url', fields.TextField(unique=False)),
                ('events', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secret', fields.CharField(max_length=100)),
                ('enabled', fields.BooleanField(default=True)),
                ('disabled_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'webhook_endpoints', 'app': 'models', 'indexes': [Index(fields=['org_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_msg_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='webhook: webhook\nemail: email', enum_type=DeliveryKind, max_length=16)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=DeliveryStatus.pending, description='pending: pending\nsucceeded: succeeded\nfailed: failed', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.SmallIntField(default=0)),
                ('response_status', fields.SmallIntField(null=True)),
                ('latency_ms', fields.IntField(null=True)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'deliveries', 'app': 'models', 'indexes': [Index(fields=['org_id', 'created_at']), Index(fields=['endpoint_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'The outbox: written in the transaction of what caused it, sent by a job of its own.'},
            bases=['Model'],
        ),
    ]
