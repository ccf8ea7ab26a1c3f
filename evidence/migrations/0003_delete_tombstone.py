from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0007_tombstone_accountabilityacceptance'),
        ('evidence', '0002_auditor_role_ended'),
    ]

    # State only: the table now belongs to core (core 0007 moved it and its content type).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(name='Tombstone'),
        ]),
    ]
