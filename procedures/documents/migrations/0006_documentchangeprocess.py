from django.db import migrations

from core.migration_ops import move_content_types, move_flow_references


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('workflows', '0005_task_assignee'),
        ('procedures', '0005_stamped_copy_base'),
        ('viewflow', '0015_task_scheduled'),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='DocumentChangeProcess',
                fields=[
                ],
                options={
                    'verbose_name': 'Document control',
                    'verbose_name_plural': 'Document control',
                    'proxy': True,
                    'indexes': [],
                    'constraints': [],
                },
                bases=('viewflow.process',),
            ),
        ]),
        move_content_types('workflows', 'procedures', ['documentchangeprocess']),
        move_flow_references({'workflows/document_control.DocumentControlFlow': 'procedures/flows.DocumentControlFlow'}),
    ]
