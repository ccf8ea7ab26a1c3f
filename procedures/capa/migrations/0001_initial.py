import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_content_types, move_flow_references


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('workflows', '0005_task_assignee'),
        ('forms', '0007_models_move_to_their_procedures'),
        ('viewflow', '0015_task_scheduled'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='CapaSection',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('code', models.CharField(max_length=4)),
                    ('round', models.PositiveSmallIntegerField(default=1)),
                    ('completed_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('summary', models.TextField(blank=True)),
                ],
                options={
                    'db_table': 'forms_capasection',
                    'ordering': ['round', 'code', 'id'],
                },
            ),
            migrations.CreateModel(
                name='DueDateChange',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('old_due_date', models.DateField()),
                    ('new_due_date', models.DateField()),
                    ('reason', models.TextField()),
                    ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('status', models.CharField(choices=[('pending', 'Pending'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='pending', max_length=8)),
                    ('decided_at', models.DateTimeField(blank=True, null=True)),
                    ('decision_reason', models.TextField(blank=True)),
                ],
                options={
                    'db_table': 'forms_duedatechange',
                    'ordering': ['id'],
                },
            ),
            migrations.CreateModel(
                name='EffectivenessCheck',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('round', models.PositiveSmallIntegerField(default=1)),
                    ('verification_date', models.DateField()),
                    ('effective', models.BooleanField(blank=True, null=True)),
                    ('result', models.TextField(blank=True)),
                    ('verified_at', models.DateTimeField(blank=True, null=True)),
                ],
                options={
                    'db_table': 'forms_effectivenesscheck',
                    'ordering': ['round', 'id'],
                },
            ),
            migrations.CreateModel(
                name='FishboneCause',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('round', models.PositiveSmallIntegerField(default=1)),
                    ('category', models.CharField(choices=[('man', 'Man'), ('machine', 'Machine'), ('material', 'Material'), ('method', 'Method'), ('environment', 'Environment'), ('measurement', 'Measurement')], max_length=12)),
                    ('cause', models.CharField(max_length=300)),
                    ('is_root', models.BooleanField(default=False)),
                ],
                options={
                    'db_table': 'forms_fishbonecause',
                    'ordering': ['round', 'category', 'id'],
                },
            ),
            migrations.CreateModel(
                name='PreventionItem',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('document', 'Document / procedure change'), ('similar_product', 'Similar products / processes'), ('other', 'Other systemic change')], max_length=16)),
                    ('description', models.CharField(max_length=500)),
                ],
                options={
                    'db_table': 'forms_preventionitem',
                    'ordering': ['id'],
                },
            ),
            migrations.CreateModel(
                name='WhyStep',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('round', models.PositiveSmallIntegerField(default=1)),
                    ('position', models.PositiveSmallIntegerField()),
                    ('question', models.CharField(max_length=500)),
                    ('answer', models.CharField(max_length=500)),
                ],
                options={
                    'db_table': 'forms_whystep',
                    'ordering': ['round', 'position'],
                },
            ),
            migrations.CreateModel(
                name='CapaProcess',
                fields=[
                ],
                options={
                    'verbose_name': 'Corrective / preventive action',
                    'verbose_name_plural': 'Corrective and preventive actions',
                    'proxy': True,
                    'indexes': [],
                    'constraints': [],
                },
                bases=('viewflow.process',),
            ),
            migrations.CreateModel(
                name='CapaAction',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('round', models.PositiveSmallIntegerField(default=1)),
                    ('position', models.PositiveSmallIntegerField(default=1)),
                    ('description', models.CharField(max_length=500, verbose_name='action')),
                    ('due_date', models.DateField(verbose_name='due date')),
                    ('original_due_date', models.DateField()),
                    ('status', models.CharField(choices=[('open', 'Open'), ('done', 'Done')], default='open', max_length=8)),
                    ('evidence', models.TextField(blank=True, verbose_name='evidence')),
                    ('done_at', models.DateTimeField(blank=True, null=True)),
                    ('reminded_for', models.DateField(blank=True, null=True)),
                    ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='capa_actions', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                ],
                options={
                    'db_table': 'forms_capaaction',
                    'ordering': ['round', 'position', 'id'],
                },
            ),
            migrations.CreateModel(
                name='ActionAttachment',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('file', models.FileField(upload_to='capa/%Y/%m/')),
                    ('original_name', models.CharField(max_length=255)),
                    ('content_type', models.CharField(max_length=100)),
                    ('size', models.PositiveIntegerField()),
                    ('sha256', models.CharField(max_length=64)),
                    ('uploaded_at', models.DateTimeField(auto_now_add=True)),
                    ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('action', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='capa.capaaction')),
                ],
                options={
                    'db_table': 'forms_actionattachment',
                    'ordering': ['id'],
                },
            ),
            migrations.CreateModel(
                name='CapaCase',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('status', models.CharField(choices=[('describe', 'D0–D2: describe the problem'), ('containment', 'D3: containment'), ('root_cause', 'D4: root cause'), ('plan', 'D5: permanent actions'), ('plan_approval', 'Plan awaiting approval'), ('implementation', 'D6: actions in progress'), ('validation', 'D6: validation'), ('awaiting_verification', 'Waiting for the effectiveness check'), ('verification', 'Effectiveness check'), ('prevention', 'D7: prevent recurrence'), ('closure', 'D8: closure'), ('closed', 'Closed')], default='describe', max_length=24)),
                    ('round', models.PositiveSmallIntegerField(default=1)),
                    ('source', models.CharField(choices=[('complaint', 'Customer complaint'), ('return', 'Customer return'), ('internal_nc', 'Internal nonconformity'), ('audit_finding', 'Audit finding'), ('management_review', 'Management review'), ('manual', 'Raised by Quality')], max_length=20, verbose_name='source')),
                    ('source_reference', models.CharField(blank=True, max_length=100, verbose_name='source reference')),
                    ('title', models.CharField(max_length=200, verbose_name='problem title')),
                    ('customer_name', models.CharField(blank=True, max_length=200, verbose_name='customer')),
                    ('product_text', models.CharField(blank=True, max_length=300, verbose_name='product / lot')),
                    ('quantity_defective', models.DecimalField(blank=True, decimal_places=3, max_digits=12, null=True, verbose_name='quantity defective')),
                    ('severity', models.CharField(choices=[('A', 'A — critical'), ('B', 'B — major'), ('C', 'C — minor')], default='B', max_length=1, verbose_name='severity')),
                    ('raised_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('emergency_response', models.TextField(blank=True, verbose_name='D0 emergency response')),
                    ('description', models.JSONField(blank=True, default=dict)),
                    ('is_is_not', models.JSONField(blank=True, default=dict)),
                    ('containment', models.TextField(blank=True, verbose_name='D3 containment actions')),
                    ('containment_verification', models.TextField(blank=True, verbose_name='D3 containment verified by / result')),
                    ('containment_removed', models.BooleanField(default=False)),
                    ('escape_point', models.TextField(blank=True, verbose_name='escape point')),
                    ('root_cause', models.TextField(blank=True, verbose_name='root cause')),
                    ('similar_elsewhere', models.TextField(blank=True, verbose_name='similar nonconformities elsewhere')),
                    ('analysis_history', models.JSONField(blank=True, default=dict)),
                    ('validation', models.TextField(blank=True, verbose_name='D6 validation')),
                    ('risks_updated', models.BooleanField(blank=True, null=True)),
                    ('risks_note', models.TextField(blank=True)),
                    ('qms_change_needed', models.BooleanField(blank=True, null=True)),
                    ('closing_summary', models.TextField(blank=True)),
                    ('closed_at', models.DateTimeField(blank=True, null=True)),
                    ('champion', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='champion')),
                    ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'corrective / preventive action',
                    'db_table': 'forms_capacase',
                    'ordering': ['-id'],
                },
            ),
        ]),
        move_content_types('forms', 'capa', ['capacase', 'capasection', 'whystep', 'fishbonecause', 'capaaction',
                                             'actionattachment', 'duedatechange', 'effectivenesscheck',
                                             'preventionitem']),
        move_content_types('workflows', 'capa', ['capaprocess']),
        move_flow_references({'workflows/capa.CapaFlow': 'capa/flows.CapaFlow'}),
    ]
