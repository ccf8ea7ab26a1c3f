import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('complaints', '0001_initial'),
        ('core', '0006_blank_destroyed_versions'),
        ('forms', '0007_models_move_to_their_procedures'),
        ('order_review', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AddField(
                model_name='complaintcase',
                name='order_review',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='complaints', to='order_review.orderreview', verbose_name='order review'),
            ),
            migrations.AddField(
                model_name='complaintcase',
                name='product',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='forms.product', verbose_name='product'),
            ),
            migrations.AddField(
                model_name='complaintcase',
                name='record',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='complaint_case', to='core.record'),
            ),
            migrations.AddField(
                model_name='complaintcase',
                name='started_by',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='anomalyreport',
                name='case',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='anomaly_report', to='complaints.complaintcase'),
            ),
            migrations.AddField(
                model_name='complaintphoto',
                name='case',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='photos', to='complaints.complaintcase'),
            ),
            migrations.AddField(
                model_name='complaintphoto',
                name='uploaded_by',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='customeracceptance',
                name='recorded_by',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='customeracceptance',
                name='signature',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.signature'),
            ),
            migrations.AddField(
                model_name='disposition',
                name='decided_by',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='disposition',
                name='report',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='dispositions', to='complaints.anomalyreport'),
            ),
            migrations.AddField(
                model_name='customeracceptance',
                name='disposition',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='customer_acceptance', to='complaints.disposition'),
            ),
            migrations.AddField(
                model_name='dispositionline',
                name='disposition',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='complaints.disposition'),
            ),
            migrations.AddField(
                model_name='dispositionsignoff',
                name='disposition',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signoffs', to='complaints.disposition'),
            ),
            migrations.AddField(
                model_name='dispositionsignoff',
                name='signature',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.signature'),
            ),
            migrations.AddField(
                model_name='dispositionsignoff',
                name='signer',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='lot',
                name='held_by',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='held by'),
            ),
            migrations.AddField(
                model_name='lot',
                name='product',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='forms.product', verbose_name='product'),
            ),
            migrations.AddField(
                model_name='lot',
                name='released_by',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='released by'),
            ),
            migrations.AddField(
                model_name='complaintcase',
                name='lot',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='complaints.lot'),
            ),
            migrations.AddField(
                model_name='materialreceipt',
                name='case',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='material_receipt', to='complaints.complaintcase'),
            ),
            migrations.AddField(
                model_name='materialreceipt',
                name='receiver',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='materialreceipt',
                name='record',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='material_receipt', to='core.record'),
            ),
            migrations.AddField(
                model_name='materialreceiptline',
                name='product',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='forms.product', verbose_name='product'),
            ),
            migrations.AddField(
                model_name='materialreceiptline',
                name='receipt',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='complaints.materialreceipt'),
            ),
            migrations.AddField(
                model_name='reinspection',
                name='disposition',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='reinspection', to='complaints.disposition'),
            ),
            migrations.AddField(
                model_name='reinspection',
                name='inspector',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='reinspection',
                name='signature',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.signature'),
            ),
            migrations.AddConstraint(
                model_name='anomalyreport',
                constraint=models.CheckConstraint(condition=models.Q(('quantity_inspected__isnull', True), ('quantity_inspected__gt', 0), _connector='OR'), name='anomaly_inspected_positive'),
            ),
            migrations.AddConstraint(
                model_name='anomalyreport',
                constraint=models.CheckConstraint(condition=models.Q(('quantity_defective__isnull', True), ('quantity_defective__gte', 0), _connector='OR'), name='anomaly_defective_not_negative'),
            ),
            migrations.AddConstraint(
                model_name='disposition',
                constraint=models.UniqueConstraint(fields=('report', 'revision'), name='unique_disposition_revision'),
            ),
            migrations.AddConstraint(
                model_name='dispositionline',
                constraint=models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='disposition_quantity_positive'),
            ),
            migrations.AddConstraint(
                model_name='dispositionline',
                constraint=models.UniqueConstraint(fields=('disposition', 'code'), name='one_line_per_code'),
            ),
            migrations.AddConstraint(
                model_name='dispositionsignoff',
                constraint=models.UniqueConstraint(fields=('disposition', 'signer_role'), name='one_signoff_per_role'),
            ),
            migrations.AddConstraint(
                model_name='lot',
                constraint=models.UniqueConstraint(fields=('product', 'number'), name='unique_lot_per_product'),
            ),
            migrations.AddIndex(
                model_name='complaintcase',
                index=models.Index(fields=['customer', 'product', 'defect_category', 'received_on'], name='complaint_repeat_lookup'),
            ),
            migrations.AddConstraint(
                model_name='complaintcase',
                constraint=models.CheckConstraint(condition=models.Q(('quantity_affected__gt', 0)), name='complaint_affected_positive'),
            ),
            migrations.AddConstraint(
                model_name='complaintcase',
                constraint=models.CheckConstraint(condition=models.Q(('quantity_delivered__gt', 0)), name='complaint_delivered_positive'),
            ),
            migrations.AddConstraint(
                model_name='materialreceiptline',
                constraint=models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='receipt_quantity_positive'),
            ),
        ]),
    ]
