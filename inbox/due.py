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


def order(descending=False):
    """The task lists' order by due date: soonest first (latest first if `descending`), tasks without a due
    date last either way, then by id (many tasks share a due date). For a queryset annotated by with_due()."""
    if descending:
        return (models.F(ANNOTATION).desc(nulls_last=True), "-pk")
    return (models.F(ANNOTATION).asc(nulls_last=True), "pk")


def by_due(tasks, descending=False):
    """`tasks` annotated with their due date and in its order (order())."""
    return with_due(tasks).order_by(*order(descending))


# --- keeping the column --------------------------------------------------------------------------------------------
# SQLite alters a table by rebuilding it from Django's model state: a later migration of the deadline table
# would drop its triggers, one of viewflow's task table the column and its indexes, without a word. After
# every migrate (post_migrate), ensure() checks them and, when one is missing, runs inbox migration 0006
# again (idempotent: it adds what is missing and fills the column from the deadlines).

MIGRATION = "inbox.migrations.0006_task_due_column"


def _migration():
    """The migration module, which names the triggers and indexes and makes them (its name starts with a digit)."""
    import importlib  # noqa: PLC0415

    return importlib.import_module(MIGRATION)


def missing(connection):
    """What of the due date's column, triggers and indexes the database lacks (a set of names); nothing
    before inbox migration 0006 is applied (or after it is rolled back)."""
    from django.db.migrations.recorder import MigrationRecorder  # noqa: PLC0415

    recorder = MigrationRecorder(connection)
    if not recorder.has_table() or not recorder.migration_qs.filter(
            app="inbox", name=MIGRATION.rsplit(".", 1)[1]).exists():
        return set()
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if "viewflow_task" not in tables or "inbox_taskdeadline" not in tables:
            return set()  # not migrated that far
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "viewflow_task")}
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'inbox_taskdeadline'::regclass "
                           "AND NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'inbox_taskdeadline'")
        triggers = {row[0] for row in cursor.fetchall()}
        indexes = set(connection.introspection.get_constraints(cursor, "viewflow_task"))
    migration = _migration()
    wanted = {COLUMN, *migration.TRIGGERS.get(connection.vendor, ()), *migration.INDEXES}
    return wanted - columns - triggers - indexes


def ensure(connection):
    """Put back what missing() names; returns it (empty when all was there)."""
    lacking = missing(connection)
    if lacking:
        _migration().forwards(None, _Statements(connection))
    return lacking


class _Statements:
    """What the migration's forwards() uses of a schema editor (its connection, execute), without one: a
    schema editor on SQLite refuses to open inside a transaction."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql):
        with self.connection.cursor() as cursor:
            cursor.execute(sql)


def ensure_after_migrate(sender, using, **kwargs):
    """post_migrate receiver (InboxConfig.ready)."""
    import logging  # noqa: PLC0415

    from django.db import connections  # noqa: PLC0415

    lacking = ensure(connections[using])
    if lacking:
        logging.getLogger(__name__).warning("restored the task due date's %s", ", ".join(sorted(lacking)))
