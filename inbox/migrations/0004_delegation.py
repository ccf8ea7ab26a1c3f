import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0002_delegation'),
        ('inbox', '0003_notification_kind_calendar'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Delegation',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('starts_on', models.DateField(verbose_name='absent from')),
                    ('ends_on', models.DateField(verbose_name='absent until (inclusive)')),
                    ('reason', models.CharField(max_length=300, verbose_name='reason')),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created')),
                    ('cancelled_at', models.DateTimeField(blank=True, null=True, verbose_name='cancelled')),
                    ('cancel_reason', models.CharField(blank=True, max_length=300, verbose_name='reason for cancelling')),
                    ('cancelled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by')),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ('delegator', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='delegations_given', to=settings.AUTH_USER_MODEL, verbose_name='absent person')),
                    ('substitute', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='delegations_received', to=settings.AUTH_USER_MODEL, verbose_name='substitute')),
                ],
                options={
                    'verbose_name': 'absence / delegation',
                    'verbose_name_plural': 'absences / delegations',
                    'db_table': 'accounts_delegation',
                    'ordering': ['-starts_on', '-pk'],
                    'indexes': [models.Index(fields=['delegator', 'starts_on', 'ends_on'], name='accounts_de_delegat_6ca99f_idx')],
                    'constraints': [models.CheckConstraint(condition=models.Q(('ends_on__gte', models.F('starts_on'))), name='delegation_ends_after_start'), models.CheckConstraint(condition=models.Q(('delegator', models.F('substitute')), _negated=True), name='delegation_not_to_oneself')],
                },
            ),
        ]),
        move_content_types('accounts', 'inbox', ['delegation']),
    ]
