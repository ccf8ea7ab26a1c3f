"""The deferred join ("late row lookup"): a page of a list is chosen on the list's own table, and only
the rows of that page are then read with the tables they show (owner, process, deadline …).

PostgreSQL cannot push a LIMIT below the joins when the order is not served by an index (a queue
over two permissions sorted by its age or due date): it joins every matching row, then sorts and
keeps 25. Choosing the page's keys first sorts narrow rows of one table, and the joins run for the
page alone; the result is the same rows in the same order (issue 15.2)."""
from django.db.models import Count, Window


def rows_by_keys(queryset, keys):
    """The rows whose primary keys are `keys` — chosen by `queryset` itself — in that order, read with the
    queryset's select_related and annotations: one query, whatever the joins. When the queryset filters on its own
    table's columns alone (no join, no aggregate), its filters are not applied a second time: they chose the keys,
    and the task lists' filters (a flow filter naming ~170 steps) cost PostgreSQL more to plan than reading ten rows
    by key does. A row changed between the two statements is then shown as it now is rather than left out."""
    if not keys:
        return []
    by_key = queryset.order_by()
    if _filters_its_own_rows_only(by_key.query):
        by_key.query.clear_where()
    found = by_key.in_bulk(keys)
    return [found[key] for key in keys if key in found]


def _filters_its_own_rows_only(query):
    """True when nothing but the query's own table is joined by its filters or annotations (select_related joins
    are added when it is compiled) and nothing is aggregated: dropping its WHERE then cannot change a row it reads."""
    joined = [alias for alias in query.alias_map if query.alias_refcount.get(alias)]
    return (len(joined) <= 1 and query.group_by is None
            and not any(getattr(annotation, "contains_aggregate", False) for annotation in query.annotations.values()))


def page_rows(queryset, start, stop):
    """queryset[start:stop] in two narrow queries: the keys of the page, then its rows."""
    keys = list(queryset.values_list("pk", flat=True)[start:stop])
    return rows_by_keys(queryset, keys)


class DeferredRows:
    """`queryset` for django.core.paginator.Paginator (and viewflow's list views): counted as it is,
    sliced through page_rows. Given `page_size`, the count is taken from the scan that also chooses the first
    page's keys (COUNT(*) OVER (), as first_rows_and_totals), and the first page is read from those keys: one
    query fewer on the page most people open. The paginator asks the count before the page, so every page pays
    that scan; a later page then chooses its own keys."""

    ordered = True  # the paginator's "unordered list" warning: the queryset carries its order

    def __init__(self, queryset, page_size=None):
        self.queryset = queryset
        self.page_size = page_size
        self._count = None
        self._first_keys = None

    def count(self):
        if self._count is None:
            if self.page_size and not self.queryset.query.distinct:  # a window counts rows before DISTINCT
                first = list(self.queryset.annotate(_total=Window(Count("pk")))
                             .values_list("pk", "_total")[:self.page_size])
                self._first_keys = [key for key, _ in first]
                self._count = first[0][1] if first else 0
            else:
                self._count = self.queryset.count()
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        if isinstance(item, slice):
            start = item.start or 0
            if start == 0 and self._first_keys is not None and item.stop is not None \
                    and item.stop <= self.page_size:
                return rows_by_keys(self.queryset, self._first_keys[:item.stop])
            return page_rows(self.queryset, start, item.stop)
        rows = page_rows(self.queryset, item, item + 1)
        if not rows:
            raise IndexError(item)
        return rows[0]


def first_rows_and_total(queryset, limit):
    """(the first `limit` rows of `queryset`, how many rows it has in all), from one scan: the page's
    keys carry the total (COUNT(*) OVER (), computed before the LIMIT), then the page's rows are read
    with their joins. A summary that shows a list's first rows says how many there are in all: a list
    is never cut without saying so."""
    rows, totals = first_rows_and_totals(queryset, limit)
    return rows, totals["all"]


def first_rows_and_totals(queryset, limit, **conditions):
    """(the first `limit` rows of `queryset`, {"all": how many rows it has in all, name: how many of them
    meet `conditions[name]` (a Q)}), from the same scan: each count is a window over the whole list
    (COUNT(*) FILTER (WHERE …) OVER ()), carried by the page's keys. A window counts the rows before DISTINCT
    removes any, so a distinct list is counted by its own queries instead."""
    keys, totals = first_keys_and_totals(queryset, limit, **conditions)
    return rows_by_keys(queryset, keys), totals


def first_keys_and_totals(queryset, limit, **conditions):
    """(the primary keys of the first `limit` rows of `queryset`, its totals as first_rows_and_totals counts
    them), for a page that reads the rows of several lists of one table in one query (rows_of_lists)."""
    if queryset.query.distinct:
        keys = list(queryset.values_list("pk", flat=True)[:limit])
        totals = {"all": queryset.count(), **{name: queryset.filter(condition).count()
                                              for name, condition in conditions.items()}}
        return keys, totals
    counts = {"_total": Window(Count("pk"))}
    counts.update({f"_count_{name}": Window(Count("pk", filter=condition)) for name, condition in conditions.items()})
    first = list(queryset.annotate(**counts).values_list("pk", *counts)[:limit])
    totals = dict(zip(["all", *conditions], first[0][1:] if first else [0] * len(counts)))
    return [row[0] for row in first], totals


def rows_of_lists(queryset, *key_lists):
    """The rows of several lists of one table whose keys were chosen apart (first_keys_and_totals), read in one
    query with `queryset`'s joins and annotations (its filters are not applied: the keys were chosen by them): a
    list of rows for each list of keys, in its order. A row gone since is left out; one changed since is shown as
    it now is (as rows_by_keys)."""
    wanted = list(dict.fromkeys(key for keys in key_lists for key in keys))
    found = queryset.order_by().in_bulk(wanted) if wanted else {}
    return [[found[key] for key in keys if key in found] for keys in key_lists]
