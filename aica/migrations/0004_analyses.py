from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from aica.models.analyses import ComplianceStatus, ReviewStatus, new_ana_id, new_ann_id, new_dsp_id, new_prf_id, new_rev_id
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_job_queue')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Analysis',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_ana_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='analyses', on_delete=OnDelete.CASCADE)),
                ('record', fields.ForeignKeyField('models.Record', source_field='record_id', db_constraint=True, to_field='id', related_name='analyses', on_delete=OnDelete.CASCADE)),
                ('profile_key', fields.CharField(max_length=64)),
                ('quality_score', fields.FloatField(null=True)),
                ('categories', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('compliance_status', fields.CharEnumField(description='passed: passed\nfailed: failed\nnot_checked: not_checked', enum_type=ComplianceStatus, max_length=16)),
                ('improvements', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('summary', fields.TextField(unique=False)),
                ('result', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'analyses', 'app': 'models', 'indexes': [Index(fields=['org_id', 'created_at']), Index(fields=['record_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AnalysisProfile',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_prf_id, unique=True, db_index=True, max_length=32)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='analysis_profiles', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('definition', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'analysis_profiles', 'app': 'models', 'unique_together': (('org', 'key'),), 'pk_attr': 'id', 'table_description': "An org's own scorecard; the built-in ones live in code (``aica.analysis.profiles``)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Annotation',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_ann_id, unique=True, db_index=True, max_length=32)),
                ('analysis', fields.ForeignKeyField('models.Analysis', source_field='analysis_id', db_constraint=True, to_field='id', related_name='annotations', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='annotations', on_delete=OnDelete.SET_NULL)),
                ('text', fields.TextField(unique=False)),
                ('start', fields.FloatField(null=True)),
                ('end', fields.FloatField(null=True)),
                ('category', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'annotations', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Review',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_rev_id, unique=True, db_index=True, max_length=32)),
                ('analysis', fields.ForeignKeyField('models.Analysis', source_field='analysis_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.CASCADE)),
                ('reviewer', fields.ForeignKeyField('models.User', source_field='reviewer_id', null=True, db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(description='approved: approved\nneeds_improvement: needs_improvement', enum_type=ReviewStatus, max_length=24)),
                ('score', fields.FloatField(null=True)),
                ('categories', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('comment', fields.TextField(default='', unique=False)),
                ('is_current', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reviews', 'app': 'models', 'pk_attr': 'id', 'table_description': "A reviewer's verdict; a new one supersedes the current one, history is kept."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Dispute',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_dsp_id, unique=True, db_index=True, max_length=32)),
                ('review', fields.ForeignKeyField('models.Review', source_field='review_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.CASCADE)),
                ('agent', fields.ForeignKeyField('models.User', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'disputes', 'app': 'models', 'pk_attr': 'id', 'table_description': "The call's agent contests a review."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Record',
            name='analysis_id',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AlterModelOptions(
            name='Transcript',
            options={'table': 'transcripts', 'app': 'models', 'pk_attr': 'record_id'},
        ),
    ]
