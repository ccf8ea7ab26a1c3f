"""The plans the tests check (issue 15: "every query plan is checked"): a statement's plan on PostgreSQL with some
of the planner's methods disabled for the rest of the test's transaction, so that what is left shows whether an index
can serve it (a disabled sequential scan is still taken when nothing else can)."""
from django.db import connection


def disable(*methods):
    """`SET LOCAL enable_<method> = off` for each, e.g. disable("seqscan", "indexscan")."""
    with connection.cursor() as cursor:
        for method in methods:
            cursor.execute(f"SET LOCAL enable_{method} = off")


def plan_without(sql, *methods):
    """EXPLAIN of `sql` with `methods` disabled, as one text."""
    disable(*methods)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())
