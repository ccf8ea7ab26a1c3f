"""`AnyOf`: a column equal to one of a long, constant list of values, bound as one parameter.

The task lists name their flows by every step they hold (about 140–170 values, inbox.queues.of_flows).
Django's `__in` turns each value into its own parameter and placeholder, processed by Django and bound by
psycopg on every query. Measured at 1 M tasks on one of the dashboard's list queries (300 runs, alternating):
2.1–2.4 ms of CPU per query with `__in`, 1.8–2.1 ms with one array (about 0.3 ms less, 12 %); the dashboard
runs eight such queries. The database's own time is the same: PostgreSQL takes the
list as one array (`col = ANY(%s)`), which its planner treats exactly as `col IN (…)` (it rewrites the one
into the other), indexes and partial indexes included. Other databases get the plain `IN (…)`, built
without the per-value processing. The values are used as they are (no field conversion): pass what the
column stores.

The array is written out as PostgreSQL's text form of an array once per list (array_literal, cached): psycopg
otherwise quoted the ~170 values again for every query (about a quarter of a millisecond each, four list queries
on the dashboard). The SQL sent is the same text psycopg wrote."""
import functools
import re

from django.db.models import Aggregate, Lookup, TextField, Value

_NEEDS_QUOTES = re.compile(r'[{},"\\\s]')


def _element(value):
    if value == "" or value.upper() == "NULL" or _NEEDS_QUOTES.search(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


@functools.lru_cache(maxsize=256)
def array_literal(values):
    """The text form of a one-dimensional array of strings (`{a,"b c"}`; PostgreSQL's array input syntax: an
    element with a brace, comma, quote, backslash or space, an empty one and the word NULL are quoted), for a tuple
    of strings; made once per tuple."""
    return "{" + ",".join(_element(value) for value in values) + "}"


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return tuple(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = tuple(self.rhs)
        if connection.vendor == "postgresql":
            if all(isinstance(value, str) for value in values):
                return f"{lhs} = ANY(%s)", (*lhs_params, array_literal(values))
            return f"{lhs} = ANY(%s)", (*lhs_params, list(values))
        if not values:
            return "1 = 0", tuple(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


class Joined(Aggregate):
    """A group's texts joined by `separator`, in no particular order: PostgreSQL's STRING_AGG, SQLite's GROUP_CONCAT
    (Django 5.2 has the first in contrib.postgres only). NULL for an empty group."""

    function = "STRING_AGG"
    output_field = TextField()

    def __init__(self, expression, separator, **extra):
        super().__init__(expression, Value(separator), **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)
