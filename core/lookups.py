"""`AnyOf`: a column equal to one of a long, constant list of values, bound as one parameter.

The task lists name their flows by every step they hold (about 170 values, inbox.queues.of_flows). Django's
`__in` turns each value into its own parameter and placeholder: measured at 1 M tasks, preparing those lists
(Django's per-value processing, psycopg splitting and binding each query) cost about a fifth of the
dashboard's server time, for queries that take a few milliseconds in the database. PostgreSQL takes the
list as one array (`col = ANY(%s)`), which its planner treats exactly as `col IN (…)` (it rewrites the one
into the other), indexes and partial indexes included. Other databases get the plain `IN (…)`, built
without the per-value processing. The values are used as they are (no field conversion): pass what the
column stores."""
from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return tuple(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        if not values:
            return "1 = 0", tuple(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)
