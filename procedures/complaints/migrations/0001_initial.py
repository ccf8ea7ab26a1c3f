import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_content_types, move_flow_references


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('workflows', '0005_task_assignee'),
        ('core', '0006_blank_destroyed_versions'),
        ('forms', '0007_models_move_to_their_procedures'),
        ('viewflow', '0015_task_scheduled'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='ComplaintPhoto',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('stage', models.CharField(choices=[('intake', 'Intake'), ('inspection', 'Inspection')], max_length=12)),
                    ('file', models.FileField(upload_to='complaints/%Y/%m/')),
                    ('original_name', models.CharField(max_length=255)),
                    ('content_type', models.CharField(max_length=100)),
                    ('size', models.PositiveIntegerField()),
                    ('sha256', models.CharField(max_length=64)),
                    ('uploaded_at', models.DateTimeField(auto_now_add=True)),
                ],
                options={
                    'db_table': 'forms_complaintphoto',
                    'ordering': ['id'],
                },
            ),
            migrations.CreateModel(
                name='CustomerAcceptance',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('accepted', models.BooleanField(verbose_name='the customer accepts the concession')),
                    ('customer_person', models.CharField(max_length=100, verbose_name='who at the customer')),
                    ('accepted_on', models.DateField(verbose_name="date of the customer's answer")),
                    ('reference', models.CharField(max_length=100, verbose_name='reference (letter, e-mail)')),
                    ('notes', models.TextField(blank=True, verbose_name='notes')),
                    ('recorded_at', models.DateTimeField()),
                ],
                options={
                    'db_table': 'forms_customeracceptance',
                },
            ),
            migrations.CreateModel(
                name='Disposition',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('revision', models.PositiveSmallIntegerField()),
                    ('status', models.CharField(choices=[('signoff', 'Awaiting signatures'), ('rejected', 'Rejected by a signer'), ('refused', 'Refused by the customer'), ('failed', 'Re-inspection failed'), ('approved', 'Approved'), ('completed', 'Completed')], default='signoff', max_length=12)),
                    ('lot_quantity', models.DecimalField(decimal_places=3, max_digits=12)),
                    ('cost', models.DecimalField(decimal_places=2, default=0, max_digits=12, verbose_name='cost of the disposition')),
                    ('notes', models.TextField(blank=True, verbose_name='notes')),
                    ('decided_at', models.DateTimeField()),
                    ('required_signers', models.JSONField(default=list)),
                    ('needs_customer_acceptance', models.BooleanField(default=False)),
                    ('needs_reinspection', models.BooleanField(default=False)),
                ],
                options={
                    'db_table': 'forms_disposition',
                    'ordering': ['revision'],
                },
            ),
            migrations.CreateModel(
                name='DispositionLine',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('code', models.CharField(choices=[('concession', 'Use as is (concession)'), ('rework', 'Rework'), ('repair', 'Repair'), ('regrade', 'Regrade'), ('scrap', 'Scrap'), ('return_to_supplier', 'Return to supplier')], max_length=20, verbose_name='disposition')),
                    ('quantity', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity')),
                    ('note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                ],
                options={
                    'db_table': 'forms_dispositionline',
                    'ordering': ['id'],
                },
            ),
            migrations.CreateModel(
                name='DispositionRule',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('code', models.CharField(choices=[('concession', 'Use as is (concession)'), ('rework', 'Rework'), ('repair', 'Repair'), ('regrade', 'Regrade'), ('scrap', 'Scrap'), ('return_to_supplier', 'Return to supplier')], max_length=20, unique=True, verbose_name='disposition')),
                    ('signers', models.JSONField(blank=True, default=list, help_text='department:role pairs, e.g. management:manager', verbose_name='further signers')),
                    ('customer_acceptance', models.BooleanField(default=False, verbose_name="needs the customer's acceptance where the contract requires it")),
                    ('reinspection', models.BooleanField(default=False, verbose_name='needs a recorded re-inspection before release')),
                ],
                options={
                    'verbose_name': 'disposition rule',
                    'db_table': 'forms_dispositionrule',
                    'ordering': ['code'],
                },
            ),
            migrations.CreateModel(
                name='DispositionSignoff',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('signer_role', models.CharField(max_length=40)),
                    ('approved', models.BooleanField()),
                    ('comment', models.TextField(blank=True)),
                    ('signed_at', models.DateTimeField()),
                ],
                options={
                    'db_table': 'forms_dispositionsignoff',
                    'ordering': ['signed_at', 'id'],
                },
            ),
            migrations.CreateModel(
                name='Lot',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.CharField(max_length=60, verbose_name='lot / batch number')),
                    ('quantity', models.DecimalField(decimal_places=3, default=0, max_digits=12, verbose_name='quantity held')),
                    ('status', models.CharField(choices=[('on_hold', 'On hold'), ('released', 'Released')], db_index=True, default='on_hold', max_length=10, verbose_name='status')),
                    ('hold_reason', models.TextField(blank=True, verbose_name='reason for the hold')),
                    ('held_at', models.DateTimeField(blank=True, null=True, verbose_name='held at')),
                    ('released_at', models.DateTimeField(blank=True, null=True, verbose_name='released at')),
                    ('release_note', models.TextField(blank=True, verbose_name='release note')),
                ],
                options={
                    'verbose_name': 'lot',
                    'db_table': 'forms_lot',
                    'ordering': ['product__code', 'number'],
                },
            ),
            migrations.CreateModel(
                name='MaterialReceipt',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('store_location', models.CharField(max_length=100, verbose_name='store / location')),
                    ('acceptance_result', models.TextField(blank=True, verbose_name='acceptance result')),
                    ('received_at', models.DateTimeField()),
                ],
                options={
                    'db_table': 'forms_materialreceipt',
                },
            ),
            migrations.CreateModel(
                name='MaterialReceiptLine',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('position', models.PositiveSmallIntegerField()),
                    ('specification', models.CharField(blank=True, max_length=200, verbose_name='specification')),
                    ('unit', models.CharField(max_length=20, verbose_name='unit')),
                    ('quantity', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity')),
                    ('lot_number', models.CharField(max_length=60, verbose_name='lot / batch number')),
                ],
                options={
                    'db_table': 'forms_materialreceiptline',
                    'ordering': ['position'],
                },
            ),
            migrations.CreateModel(
                name='Reinspection',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('quantity_passed', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity passed')),
                    ('quantity_failed', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity failed')),
                    ('result', models.TextField(verbose_name='result')),
                    ('inspected_at', models.DateTimeField()),
                ],
                options={
                    'db_table': 'forms_reinspection',
                },
            ),
            migrations.CreateModel(
                name='ComplaintProcess',
                fields=[
                ],
                options={
                    'verbose_name': 'Complaint / return',
                    'verbose_name_plural': 'Complaints and returns',
                    'proxy': True,
                    'indexes': [],
                    'constraints': [],
                },
                bases=('viewflow.process',),
            ),
            migrations.CreateModel(
                name='AnomalyReport',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('source', models.CharField(choices=[('customer_return', 'Customer return'), ('customer_complaint', 'Customer complaint')], max_length=20, verbose_name='source')),
                    ('quantity_inspected', models.DecimalField(blank=True, decimal_places=3, max_digits=12, null=True, verbose_name='quantity inspected')),
                    ('quantity_defective', models.DecimalField(blank=True, decimal_places=3, max_digits=12, null=True, verbose_name='quantity defective')),
                    ('defect_grade', models.CharField(choices=[('A', 'A — critical'), ('B', 'B — major'), ('C', 'C — minor')], max_length=1, verbose_name='defect grade')),
                    ('phenomenon', models.TextField(verbose_name='defect found')),
                    ('cause_man', models.TextField(blank=True, verbose_name='man (人)')),
                    ('cause_machine', models.TextField(blank=True, verbose_name='machine (机)')),
                    ('cause_material', models.TextField(blank=True, verbose_name='material (料)')),
                    ('cause_method', models.TextField(blank=True, verbose_name='method (法)')),
                    ('cause_environment', models.TextField(blank=True, verbose_name='environment (环)')),
                    ('cause_measurement', models.TextField(blank=True, verbose_name='measurement (测)')),
                    ('cause_summary', models.TextField(verbose_name='cause analysis')),
                    ('interim_measure', models.TextField(verbose_name='interim measure')),
                    ('actions', models.JSONField(default=list, verbose_name='actions taken')),
                    ('inspected_at', models.DateTimeField()),
                    ('inspector', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('record', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='anomaly_report', to='core.record')),
                ],
                options={
                    'verbose_name': 'quality anomaly report',
                    'db_table': 'forms_anomalyreport',
                },
            ),
            migrations.CreateModel(
                name='ComplaintAnalysis',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('period_start', models.DateField(verbose_name='period start')),
                    ('period_end', models.DateField(verbose_name='period end')),
                    ('trigger', models.CharField(choices=[('scheduled', 'Scheduled'), ('on_demand', 'On demand')], max_length=10)),
                    ('figures', models.JSONField(default=dict)),
                    ('compiled_at', models.DateTimeField()),
                    ('comment', models.TextField(blank=True, verbose_name='management review notes')),
                    ('approved_at', models.DateTimeField(blank=True, null=True)),
                    ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('compiled_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('record', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='complaint_analysis', to='core.record')),
                ],
                options={
                    'verbose_name': 'complaint and return analysis',
                    'db_table': 'forms_complaintanalysis',
                    'ordering': ['-period_end', '-id'],
                },
            ),
            migrations.CreateModel(
                name='ComplaintCase',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('complaint', 'Complaint'), ('return', 'Return'), ('both', 'Complaint and return')], max_length=10, verbose_name='complaint or return')),
                    ('contact', models.CharField(blank=True, max_length=100, verbose_name='customer contact')),
                    ('phone', models.CharField(blank=True, max_length=50, verbose_name='phone')),
                    ('channel', models.CharField(choices=[('phone', 'Phone'), ('email', 'E-mail'), ('letter', 'Letter / fax'), ('visit', 'Visit'), ('other', 'Other')], default='email', max_length=10, verbose_name='how the complaint came in')),
                    ('received_on', models.DateField(verbose_name='date received')),
                    ('order_reference', models.CharField(blank=True, max_length=50, verbose_name='order / contract number')),
                    ('delivery_note', models.CharField(blank=True, max_length=50, verbose_name='delivery note number')),
                    ('delivery_date', models.DateField(blank=True, null=True, verbose_name='delivery date')),
                    ('specification', models.CharField(blank=True, max_length=200, verbose_name='specification')),
                    ('lot_number', models.CharField(blank=True, max_length=60, verbose_name='lot / batch number')),
                    ('lot_held', models.BooleanField(default=False)),
                    ('quantity_delivered', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity delivered')),
                    ('quantity_affected', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity affected / returned')),
                    ('defect_category', models.CharField(choices=[('appearance', 'Appearance'), ('dimension', 'Dimension'), ('function', 'Function / performance'), ('material', 'Material'), ('packaging', 'Packaging / labelling'), ('quantity', 'Quantity / mixed parts'), ('documents', 'Documents / certificates'), ('other', 'Other')], max_length=12, verbose_name='defect class')),
                    ('description', models.TextField(verbose_name='defect as the customer describes it')),
                    ('customer_request', models.CharField(choices=[('return', 'Return the goods'), ('replacement', 'Replacement'), ('rework', 'Rework / repair'), ('discount', 'Price discount'), ('compensation', 'Compensation'), ('report', 'Investigation report (8D)'), ('other', 'Other')], max_length=12, verbose_name='what the customer asks for')),
                    ('customer_request_detail', models.TextField(blank=True, verbose_name='customer request in detail')),
                    ('contract_requires_acceptance', models.BooleanField(default=False, verbose_name="the contract requires the customer's acceptance of a concession")),
                    ('repeat_count', models.PositiveIntegerField(default=0, verbose_name='earlier complaints (same customer, product and defect class)')),
                    ('status', models.CharField(choices=[('inspection', 'Awaiting inspection'), ('judgement', 'Awaiting judgement'), ('negotiation', 'Negotiating with the customer'), ('settlement', 'Settling with the customer'), ('handover', 'Goods to Materials'), ('receipt', 'Awaiting material receipt'), ('disposition', 'Awaiting disposition'), ('signoff', 'Disposition awaiting signatures'), ('customer_acceptance', "Awaiting the customer's acceptance"), ('reinspection', 'Awaiting re-inspection'), ('capa_decision', 'Awaiting CAPA decision'), ('closed', 'Closed')], db_index=True, default='inspection', max_length=20, verbose_name='status')),
                    ('justified', models.BooleanField(blank=True, null=True, verbose_name='justified')),
                    ('judgement', models.TextField(blank=True, verbose_name='reasoning of the judgement')),
                    ('judged_at', models.DateTimeField(blank=True, null=True)),
                    ('outcome', models.CharField(blank=True, max_length=20, verbose_name='outcome agreed with the customer')),
                    ('outcome_notes', models.TextField(blank=True, verbose_name='record of the negotiation')),
                    ('settlement_amount', models.DecimalField(decimal_places=2, default=0, max_digits=12, verbose_name='amount agreed with the customer')),
                    ('handed_over_at', models.DateTimeField(blank=True, null=True)),
                    ('handover_note', models.TextField(blank=True, verbose_name='handover note')),
                    ('capa_required', models.BooleanField(blank=True, null=True, verbose_name='corrective / preventive action needed')),
                    ('capa_reason', models.TextField(blank=True, verbose_name='reason')),
                    ('capa_decided_at', models.DateTimeField(blank=True, null=True)),
                    ('capa_reference', models.CharField(blank=True, max_length=32, verbose_name='CAPA record')),
                    ('capa_closed_at', models.DateTimeField(blank=True, null=True)),
                    ('cost', models.DecimalField(decimal_places=2, default=0, max_digits=12, verbose_name='cost')),
                    ('closed_at', models.DateTimeField(blank=True, null=True)),
                    ('capa_decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='forms.customer', verbose_name='customer')),
                    ('handed_over_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('judged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'complaint / return',
                    'db_table': 'forms_complaintcase',
                },
            ),
        ]),
        move_content_types('forms', 'complaints', ['lot', 'complaintcase', 'complaintphoto', 'anomalyreport',
                                                   'materialreceipt', 'materialreceiptline', 'dispositionrule',
                                                   'disposition', 'dispositionline', 'dispositionsignoff',
                                                   'customeracceptance', 'reinspection', 'complaintanalysis']),
        move_content_types('workflows', 'complaints', ['complaintprocess']),
        move_flow_references({'workflows/complaints.ComplaintFlow': 'complaints/flows.ComplaintFlow'}),
    ]
