"""A flow board's "Recently closed" column at a plant's size (issue 15): the newest finished end tasks of the
flow. Found by the benchmark once its history processes were closed with an end task, as real ones are: through
task_by_node the column read every end task the flow ever had (8,260 closed complaints at 1 M tasks, 6 ms hot;
22,420 for document control) and sorted them, a cost that grows with every year kept.

- task_end_by_finished: every flow's finished end tasks, newest first, with their node: the column walks it from
  the newest and keeps its flow's (a few hundred entries read, whatever the years; index-only).

Built on PostgreSQL without blocking writes (CONCURRENTLY, hence a migration outside a transaction)."""
from django.db import migrations

from core.migration_ops import indexes_built_concurrently

INDEXES = {"task_end_by_finished": ("ON viewflow_task (finished DESC, id DESC, flow_task) "
                                    "WHERE flow_task_type = 'END' AND finished IS NOT NULL")}


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
    dependencies = [("workflows", "0009_flow_page_indexes")]
    operations = [indexes_built_concurrently(INDEXES)]
