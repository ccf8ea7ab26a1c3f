import django.core.validators
import django.db.models.deletion
from decimal import Decimal
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
                name='OrderReviewProcess',
                fields=[
                ],
                options={
                    'verbose_name': 'Order / contract review',
                    'verbose_name_plural': 'Order / contract reviews',
                    'proxy': True,
                    'indexes': [],
                    'constraints': [],
                },
                bases=('viewflow.process',),
            ),
            migrations.CreateModel(
                name='OrderReview',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('order', 'Order'), ('contract', 'Contract')], max_length=10, verbose_name='order or contract')),
                    ('order_number', models.CharField(max_length=50, verbose_name='order / contract number')),
                    ('order_date', models.DateField(verbose_name='order date')),
                    ('verbal', models.BooleanField(default=False, verbose_name='verbal order')),
                    ('verbal_confirmation', models.TextField(blank=True, verbose_name='confirmation of a verbal order')),
                    ('payment_terms', models.CharField(blank=True, max_length=200, verbose_name='payment terms')),
                    ('delivery_place', models.CharField(blank=True, max_length=200, verbose_name='delivery place')),
                    ('transport', models.CharField(blank=True, max_length=200, verbose_name='packaging and transport')),
                    ('special_requirements', models.TextField(blank=True, verbose_name='special requirements')),
                    ('implied_requirements', models.TextField(blank=True, verbose_name='requirements not stated but needed for the intended use')),
                    ('statutory_requirements', models.TextField(blank=True, verbose_name='statutory and regulatory requirements')),
                    ('after_delivery_requirements', models.TextField(blank=True, verbose_name='delivery and after-delivery requirements')),
                    ('quote_reference', models.CharField(blank=True, max_length=50, verbose_name='quotation / earlier order')),
                    ('quote_differences', models.TextField(blank=True, verbose_name='differences from the quotation / earlier order')),
                    ('differences_resolution', models.TextField(blank=True, verbose_name='how the differences were resolved')),
                    ('sample_override', models.BooleanField(blank=True, null=True, verbose_name='reviewers decide: sample')),
                    ('review_method', models.CharField(choices=[('meeting', 'Meeting'), ('relay', 'Circulation')], default='relay', max_length=10, verbose_name='review method')),
                    ('status', models.CharField(choices=[('in_review', 'In review'), ('negotiation', 'Negotiating with customer'), ('awaiting_approval', 'Awaiting approval'), ('approved', 'Approved'), ('declined', 'Declined'), ('rejected', 'Rejected by approver'), ('change_in_review', 'Change in review')], default='in_review', max_length=20, verbose_name='status')),
                    ('revision', models.PositiveIntegerField(default=0, verbose_name='revision')),
                    ('conclusion', models.TextField(blank=True, verbose_name='review conclusion')),
                    ('declined_reason', models.TextField(blank=True, verbose_name='reason declined')),
                    ('approved_at', models.DateTimeField(blank=True, null=True)),
                    ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='forms.customer', verbose_name='customer')),
                    ('record', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='order_review', to='core.record')),
                    ('started_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'order review',
                    'db_table': 'forms_orderreview',
                },
            ),
            migrations.CreateModel(
                name='OrderLine',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('position', models.PositiveSmallIntegerField()),
                    ('specification', models.CharField(blank=True, max_length=200, verbose_name='specification')),
                    ('quantity', models.DecimalField(decimal_places=3, max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal('0.001'))], verbose_name='quantity')),
                    ('unit', models.CharField(max_length=20, verbose_name='unit')),
                    ('unit_price', models.DecimalField(blank=True, decimal_places=4, max_digits=12, null=True, verbose_name='unit price')),
                    ('packaging', models.CharField(blank=True, max_length=200, verbose_name='packaging')),
                    ('delivery_date', models.DateField(verbose_name='delivery date')),
                    ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='forms.product', verbose_name='product')),
                    ('order_review', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='order_review.orderreview')),
                ],
                options={
                    'db_table': 'forms_orderline',
                    'ordering': ['position'],
                },
            ),
            migrations.CreateModel(
                name='LedgerEntry',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('contract_number', models.CharField(max_length=50, verbose_name='contract number')),
                    ('kind', models.CharField(choices=[('order', 'Order'), ('contract', 'Contract')], max_length=10, verbose_name='type')),
                    ('status', models.CharField(default='open', max_length=20, verbose_name='status')),
                    ('customer_name', models.CharField(max_length=200, verbose_name='customer')),
                    ('signed_date', models.DateField(verbose_name='date signed')),
                    ('delivery_date', models.DateField(verbose_name='delivery date')),
                    ('total_amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='total amount')),
                    ('shipped_quantity', models.DecimalField(decimal_places=3, default=0, max_digits=14, verbose_name='shipped')),
                    ('open_quantity', models.DecimalField(decimal_places=3, max_digits=14, verbose_name='not shipped')),
                    ('revision', models.PositiveIntegerField(default=0, verbose_name='revision')),
                    ('remarks', models.TextField(blank=True, verbose_name='remarks')),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('order_review', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entry', to='order_review.orderreview')),
                ],
                options={
                    'verbose_name': 'contract ledger line',
                    'db_table': 'forms_ledgerentry',
                    'ordering': ['-signed_date', 'contract_number'],
                },
            ),
            migrations.CreateModel(
                name='ChangeNotice',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('category', models.CharField(choices=[('increase', 'Quantity increase'), ('earlier', 'Earlier delivery'), ('later', 'Later delivery'), ('cancel', 'Cancellation'), ('replenish', 'Replenishment'), ('other', 'Other')], max_length=12, verbose_name='change category')),
                    ('reason', models.TextField(verbose_name='reason for the change')),
                    ('before', models.JSONField(default=list)),
                    ('after', models.JSONField(default=list)),
                    ('affected_departments', models.JSONField(default=list)),
                    ('customer_confirmed', models.BooleanField(default=False, verbose_name='customer confirmed')),
                    ('after_approval', models.BooleanField(default=False)),
                    ('status', models.CharField(choices=[('in_review', 'In review'), ('approved', 'Approved'), ('declined', 'Declined'), ('rejected', 'Rejected')], default='in_review', max_length=12)),
                    ('issued_at', models.DateTimeField(auto_now_add=True)),
                    ('issued_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('record', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='change_notice', to='core.record')),
                    ('order_review', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='change_notices', to='order_review.orderreview')),
                ],
                options={
                    'db_table': 'forms_changenotice',
                },
            ),
            migrations.CreateModel(
                name='Attachment',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('file', models.FileField(upload_to='attachments/%Y/%m/')),
                    ('original_name', models.CharField(max_length=255)),
                    ('content_type', models.CharField(max_length=100)),
                    ('size', models.PositiveIntegerField()),
                    ('sha256', models.CharField(max_length=64)),
                    ('uploaded_at', models.DateTimeField(auto_now_add=True)),
                    ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('order_review', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='order_review.orderreview')),
                ],
                options={
                    'db_table': 'forms_attachment',
                    'ordering': ['id'],
                },
            ),
            migrations.CreateModel(
                name='ProductionPlan',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('order_revision', models.PositiveIntegerField()),
                    ('planned_start', models.DateField(verbose_name='planned start')),
                    ('planned_finish', models.DateField(verbose_name='planned finish')),
                    ('material_readiness', models.TextField(verbose_name='material readiness')),
                    ('notes', models.TextField(blank=True, verbose_name='notes')),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('order_review', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='plans', to='order_review.orderreview')),
                    ('record', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='production_plan', to='core.record')),
                ],
                options={
                    'db_table': 'forms_productionplan',
                },
            ),
            migrations.CreateModel(
                name='ReviewRound',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.PositiveSmallIntegerField()),
                    ('departments', models.JSONField(default=list)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('change_notice', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='order_review.changenotice')),
                    ('order_review', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rounds', to='order_review.orderreview')),
                    ('process', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='viewflow.process')),
                ],
                options={
                    'db_table': 'forms_reviewround',
                    'ordering': ['number'],
                },
            ),
            migrations.CreateModel(
                name='DepartmentReview',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('department', models.CharField(choices=[('market', 'Market / Sales'), ('quality', 'Quality'), ('production', 'Production'), ('engineering', 'Engineering'), ('materials', 'Materials / Procurement'), ('finance', 'Finance'), ('warehouse', 'Finished-goods store'), ('management', 'General management')], max_length=20)),
                    ('verdict', models.CharField(choices=[('can_meet', 'Can meet'), ('conditions', 'Can meet with conditions'), ('cannot_meet', 'Cannot meet')], max_length=12, verbose_name='verdict')),
                    ('comment', models.TextField(blank=True, verbose_name='comment')),
                    ('material_readiness', models.CharField(blank=True, choices=[('ready', 'Materials ready'), ('to_order', 'To be procured in time'), ('short', 'Shortage: cannot be procured in time')], max_length=12, verbose_name='material readiness')),
                    ('reviewed_at', models.DateTimeField()),
                    ('reviewer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('signature', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.signature')),
                    ('round', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='order_review.reviewround')),
                ],
                options={
                    'db_table': 'forms_departmentreview',
                    'ordering': ['department'],
                },
            ),
            migrations.CreateModel(
                name='ChangeReceipt',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('department', models.CharField(choices=[('market', 'Market / Sales'), ('quality', 'Quality'), ('production', 'Production'), ('engineering', 'Engineering'), ('materials', 'Materials / Procurement'), ('finance', 'Finance'), ('warehouse', 'Finished-goods store'), ('management', 'General management')], max_length=20)),
                    ('received_at', models.DateTimeField()),
                    ('comment', models.TextField(blank=True)),
                    ('notice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='order_review.changenotice')),
                    ('receiver', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('signature', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.signature')),
                ],
                options={
                    'db_table': 'forms_changereceipt',
                    'ordering': ['received_at'],
                    'constraints': [models.UniqueConstraint(fields=('notice', 'department'), name='one_receipt_per_department')],
                },
            ),
            migrations.CreateModel(
                name='LedgerRevision',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('revision', models.PositiveIntegerField()),
                    ('summary', models.TextField()),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('change_notice', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='order_review.changenotice')),
                    ('entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='revisions', to='order_review.ledgerentry')),
                ],
                options={
                    'db_table': 'forms_ledgerrevision',
                    'ordering': ['revision'],
                    'constraints': [models.UniqueConstraint(fields=('entry', 'revision'), name='unique_ledger_revision')],
                },
            ),
            migrations.AddConstraint(
                model_name='orderreview',
                constraint=models.UniqueConstraint(fields=('customer', 'order_number'), name='unique_order_per_customer'),
            ),
            migrations.AddConstraint(
                model_name='orderline',
                constraint=models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='line_quantity_positive'),
            ),
            migrations.AddConstraint(
                model_name='reviewround',
                constraint=models.UniqueConstraint(fields=('order_review', 'number'), name='unique_round'),
            ),
            migrations.AddConstraint(
                model_name='departmentreview',
                constraint=models.UniqueConstraint(fields=('round', 'department'), name='one_review_per_round'),
            ),
        ]),
        move_content_types('forms', 'order_review', ['orderreview', 'orderline', 'reviewround', 'departmentreview',
                                                     'changenotice', 'productionplan', 'ledgerentry', 'ledgerrevision',
                                                     'attachment', 'changereceipt']),
        move_content_types('workflows', 'order_review', ['orderreviewprocess']),
        move_flow_references({'workflows/order_review.OrderReviewFlow': 'order_review/flows.OrderReviewFlow'}),
    ]
