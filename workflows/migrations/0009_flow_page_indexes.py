"""A flow's own pages at a plant's size (issue 15): the board of its open tasks step by step
(/qms/flows/<flow>/), the list of all its tasks (…/tasks/) and of its processes (…/flows/). viewflow's
versions of them found a flow's tasks through the process table and ordered nothing: at 1 M tasks the
complaint board took 2.3 s (a scan of the task table for each step), the task list counted every task of the
flow through a join, and the process list paged an unordered GROUP BY over all of the flow's tasks.

- task_open_by_node: a step's open tasks, oldest first (the board's columns and their counts: index-only);
- task_by_node: a flow's tasks by their node (the task list's count and step filter; the board's finished
  column); the node alone, so PostgreSQL stores each node once for all its tasks (7 MB at 1 M tasks, where
  the node with its time and id took 86 MB);
- process_by_flow: a flow's processes, newest first (the process list's page and count).

Built on PostgreSQL without blocking writes (CONCURRENTLY, hence a migration outside a transaction)."""
from django.db import migrations

from core.migration_ops import indexes_built_concurrently

INDEXES = {
    "task_open_by_node": "ON viewflow_task (flow_task, created, id) WHERE finished IS NULL OR status = 'ERROR'",
    "task_by_node": "ON viewflow_task (flow_task)",
    "process_by_flow": "ON viewflow_process (flow_class, created DESC, id DESC)",
}


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
    dependencies = [("workflows", "0008_done_tasks_index_covers_the_flow")]
    operations = [indexes_built_concurrently(INDEXES)]
