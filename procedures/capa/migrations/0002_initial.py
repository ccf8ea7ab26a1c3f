import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('capa', '0001_initial'),
        ('complaints', '0001_initial'),
        ('core', '0006_blank_destroyed_versions'),
        ('procedures', '0005_stamped_copy_base'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AddField(
                model_name='capacase',
                name='complaint_case',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='capas', to='complaints.complaintcase'),
            ),
            migrations.AddField(
                model_name='capacase',
                name='leader',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='team leader'),
            ),
            migrations.AddField(
                model_name='capacase',
                name='members',
                field=models.ManyToManyField(blank=True, db_table='forms_capacase_members', related_name='capa_teams', to=settings.AUTH_USER_MODEL, verbose_name='team members'),
            ),
            migrations.AddField(
                model_name='capacase',
                name='raised_by',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='capacase',
                name='record',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='capa_case', to='core.record'),
            ),
            migrations.AddField(
                model_name='capaaction',
                name='case',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='actions', to='capa.capacase'),
            ),
            migrations.AddField(
                model_name='capasection',
                name='case',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sections', to='capa.capacase'),
            ),
            migrations.AddField(
                model_name='capasection',
                name='owner',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='duedatechange',
                name='action',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='extensions', to='capa.capaaction'),
            ),
            migrations.AddField(
                model_name='duedatechange',
                name='decided_by',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='duedatechange',
                name='requested_by',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='effectivenesscheck',
                name='case',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='checks', to='capa.capacase'),
            ),
            migrations.AddField(
                model_name='effectivenesscheck',
                name='planned_by',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='effectivenesscheck',
                name='verified_by',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AddField(
                model_name='fishbonecause',
                name='case',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='causes', to='capa.capacase'),
            ),
            migrations.AddField(
                model_name='preventionitem',
                name='case',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='prevention_items', to='capa.capacase'),
            ),
            migrations.AddField(
                model_name='preventionitem',
                name='change_revision',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='procedures.revision'),
            ),
            migrations.AddField(
                model_name='preventionitem',
                name='document',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='procedures.document'),
            ),
            migrations.AddField(
                model_name='whystep',
                name='case',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='whys', to='capa.capacase'),
            ),
        ]),
    ]
