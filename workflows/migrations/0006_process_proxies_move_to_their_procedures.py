from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('workflows', '0005_task_assignee'),
    ]

    # State only: the models moved between apps; their tables (and rows) stay where they were (Meta.db_table).
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(
                name='CapaProcess',
            ),
            migrations.DeleteModel(
                name='ComplaintProcess',
            ),
            migrations.DeleteModel(
                name='DocumentChangeProcess',
            ),
            migrations.DeleteModel(
                name='OrderReviewProcess',
            ),
        ]),
    ]
