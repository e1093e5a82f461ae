from tortoise import migrations
from tortoise.migrations import operations as ops
from aica.models.orgs import TokenKind, new_inv_id
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_record_source_bitrix24')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Membership',
            name='pending',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='User',
            name='failed_logins',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='User',
            name='login_blocked_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_inv_id, unique=True, db_index=True, max_length=32)),
                ('membership', fields.OneToOneField('models.Membership', source_field='membership_id', db_constraint=True, to_field='id', related_name='invitation', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'invitations', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        # Open invitation tokens become invitations of their member; invite tokens are no more.
        ops.RunSQL(
            [
                "INSERT INTO invitations (id, membership_id, token_hash, expires_at, created_at) "
                "SELECT 'inv_' || substr(md5(t.id), 1, 12), m.id, t.token_hash, "
                "COALESCE(t.expires_at, t.created_at + interval '7 days'), t.created_at "
                "FROM tokens t JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id "
                "WHERE t.kind = 'invite' AND t.revoked_at IS NULL "
                "ON CONFLICT DO NOTHING",
                "DELETE FROM tokens WHERE kind = 'invite'",
            ]
        ),
        ops.AlterField(
            model_name='Token',
            name='kind',
            field=fields.CharEnumField(description='session: session\npersonal: personal\nservice: service', enum_type=TokenKind, max_length=16),
        ),
    ]
