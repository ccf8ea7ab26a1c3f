"""A task's due date read from the task row: `viewflow_task.qms_due_at`, the copy of its deadline's
`due_at` that the database keeps (inbox migration 0006: a trigger on the deadline table). The task
lists sort and filter on it, so that choosing a page of a queue sorted by due date reads the task
table and its partial index alone (issue 15.2); the rows shown still read their deadline.

    tasks = with_due(Task.objects.filter(...))       # annotates `due_at`
    tasks.filter(due_at__lte=now).order_by(F("due_at").asc(nulls_last=True), "pk")

The column is not a field of viewflow's Task model (the table is viewflow's), so it is reached with
an expression naming it on the query's own task table: a Col, relabelled like any other when the
query becomes a subquery."""
from django.db import models
from django.db.models.expressions import Col, Expression
from viewflow.workflow.models import Task

ANNOTATION = "due_at"
COLUMN = "qms_due_at"


def _column():
    field = models.DateTimeField(null=True)
    field.set_attributes_from_name(COLUMN)
    field.model = Task  # named with its table in expressions' identities; not added to the model's fields
    return field


_FIELD = _column()


class TaskDue(Expression):
    """`viewflow_task.qms_due_at` of the query's base table (a Task queryset)."""

    output_field = _FIELD

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        return Col(query.get_initial_alias(), _FIELD, output_field=_FIELD)


def with_due(tasks):
    """`tasks` (a Task queryset) annotated with `due_at`, the due date on its own row; once only."""
    if ANNOTATION in tasks.query.annotations:
        return tasks
    return tasks.annotate(**{ANNOTATION: TaskDue()})


def by_due(tasks, descending=False):
    """Soonest due first (latest first if `descending`), tasks without a due date last, then by id."""
    tasks = with_due(tasks)
    if descending:
        return tasks.order_by(models.F(ANNOTATION).desc(nulls_last=True), "-pk")
    return tasks.order_by(models.F(ANNOTATION).asc(nulls_last=True), "pk")
