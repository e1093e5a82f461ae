from tortoise import migrations
from tortoise.migrations import operations as ops
from aica.models.billing import CreditSource, UsageKind, new_crd_id, new_use_id
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BillingSettings',
            fields=[
                ('org', fields.OneToOneField('models.Org', source_field='org_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='billing', on_delete=OnDelete.CASCADE)),
                ('rate_per_minute', fields.DecimalField(max_digits=18, decimal_places=10)),
                ('reanalysis_rate_per_minute', fields.DecimalField(max_digits=18, decimal_places=10)),
                ('budget_limit', fields.DecimalField(null=True, max_digits=18, decimal_places=2)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'billing_settings', 'app': 'models', 'pk_attr': 'org_id', 'table_description': "An org's rates and budget; absent until changed (the defaults apply)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BudgetNotice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='budget_notices', on_delete=OnDelete.CASCADE)),
                ('period', fields.CharField(max_length=7)),
                ('threshold', fields.SmallIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'budget_notices', 'app': 'models', 'unique_together': (('org', 'period', 'threshold'),), 'pk_attr': 'id', 'table_description': 'A budget threshold (80, 100 percent) announced for a month: once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditGrant',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_crd_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='credit_grants', on_delete=OnDelete.CASCADE)),
                ('amount', fields.DecimalField(max_digits=18, decimal_places=6)),
                ('remaining', fields.DecimalField(max_digits=18, decimal_places=6)),
                ('source', fields.CharEnumField(default=CreditSource.manual, description='purchase: purchase\npromo: promo\nmanual: manual', enum_type=CreditSource, max_length=16)),
                ('note', fields.CharField(default='', max_length=500)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'credit_grants', 'app': 'models', 'indexes': [Index(fields=['org_id', 'expires_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsageEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_use_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='usage', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=80)),
                ('kind', fields.CharEnumField(description='processing: processing\nreanalysis: reanalysis', enum_type=UsageKind, max_length=16)),
                ('project_id', fields.CharField(max_length=32)),
                ('record_id', fields.CharField(max_length=32)),
                ('seconds', fields.DecimalField(max_digits=14, decimal_places=3)),
                ('rate_per_minute', fields.DecimalField(max_digits=18, decimal_places=10)),
                ('cost', fields.DecimalField(max_digits=18, decimal_places=6)),
                ('period', fields.CharField(max_length=7)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'usage_events', 'app': 'models', 'unique_together': (('org', 'key'),), 'indexes': [Index(fields=['org_id', 'period']), Index(fields=['org_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One metered thing, once: the unique ``key`` makes a re-run or a race meter nothing.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditDraw',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('usage', fields.ForeignKeyField('models.UsageEvent', source_field='usage_id', db_constraint=True, to_field='id', related_name='draws', on_delete=OnDelete.CASCADE)),
                ('grant', fields.ForeignKeyField('models.CreditGrant', source_field='grant_id', db_constraint=True, to_field='id', related_name='draws', on_delete=OnDelete.CASCADE)),
                ('amount', fields.DecimalField(max_digits=18, decimal_places=6)),
            ],
            options={'table': 'credit_draws', 'app': 'models', 'pk_attr': 'id', 'table_description': 'How much of a grant one usage event drew.'},
            bases=['Model'],
        ),
    ]
