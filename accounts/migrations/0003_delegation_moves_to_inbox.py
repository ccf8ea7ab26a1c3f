from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_delegation'),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(
                name='Delegation',
            ),
        ]),
    ]
