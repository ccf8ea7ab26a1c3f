"""The link from a new task to the one before it (viewflow's `task.previous`, table viewflow_task_previous),
written with the step's other links in one INSERT at the end of its transaction (issue 15.4).

viewflow links every task it creates with its own statement: a step that passes two gateways and opens a task
writes three, a P1 start (its split and five reviews) six. Nothing reads these links again in the transaction
that makes them — viewflow reads them only to undo, revive or cancel a task, each its own later transaction;
a join reads the links of its arrivals, which its activation writes at once (workflows.gateways) — so the
tasks the engine creates (gateway tasks and human steps) hand their link to core.audit.insert_later(), and a
savepoint rolled back drops its links with its tasks. Outside an audit.atomic() block a link is written at
once, as viewflow writes it."""
from viewflow.workflow.models import Task

from core import audit


def link_later(task, previous):
    """`task.previous.add(previous)`, written with the other links of the transaction at its end."""
    audit.insert_later(Task.previous.through(from_task_id=task.pk, to_task_id=previous.pk))
