"""Rows a step has just written or read, kept on the instance they belong to as `prefetch_related()` would keep
them, so the snapshot that follows in the same step prints them without reading them back."""
import datetime
import functools
import json
from collections import defaultdict

from django.conf import settings
from django.db import connections
from django.db.models import F, IntegerField, Value
from django.db.models.functions import JSONObject
from django.utils import timezone


def keep_related(instance, name, rows):
    """`rows` are `instance`'s `name` (a reverse foreign key, e.g. an order's lines) as they stand now:
    `getattr(instance, name).all()` answers with them, in this order, without a query. Returns `instance`.
    Django keeps prefetched rows the same way (QuerySet._result_cache and _prefetch_done, the instance's
    _prefetched_objects_cache); its prefetch_related_objects() would read them again."""
    kept = getattr(instance, name).all()
    kept._result_cache, kept._prefetch_done = list(rows), True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = kept
    return instance


# --- several relations of one row read in one statement -------------------------------------------------------------
# prefetch_related() reads each relation with its own query: a record's snapshot over nine child tables is nine
# queries in the signing step's transaction (issue 15.4: at most 25 per signed step). read_related() reads them in
# one UNION ALL; each row comes as a JSON object of its fields (and of the rows select_related would join to it,
# one nested object each), built with Django's JSON_OBJECT (json_object on SQLite, JSONB_BUILD_OBJECT on
# PostgreSQL), decoded with each field's own to_python() and kept where prefetch_related() keeps its rows.

#: field types whose values come back from a JSON object exactly (decoded with the field's to_python()); a field of
#: another type (decimal, float, JSON, binary …) is left deferred: Django reads it if it is used.
JSON_EXACT_TYPES = frozenset({
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "CharField", "TextField",
    "SlugField", "BooleanField", "DateField", "DateTimeField", "FileField", "UUIDField", "ForeignKey",
    "OneToOneField",
})
_OWN = "."  # the key of a row's own fields; a joined row's key is its select_related path


@functools.cache
def _json_fields(model):
    """The model's fields read from the JSON object (a model's fields are fixed once it is loaded)."""
    return tuple(f for f in model._meta.concrete_fields if f.get_internal_type() in JSON_EXACT_TYPES)


def _relation(model, name, first):
    """(child model, the child's lookup to `model`, the reverse foreign key or None for a many-to-many)."""
    field = model._meta.get_field(name)
    if field.one_to_many:
        return field.related_model, field.field.name, field.field
    if field.many_to_many and first and not field.auto_created:
        return field.related_model, field.related_query_name(), None
    raise ValueError(f"read_related: {model.__name__}.{name} is neither a reverse foreign key nor a many-to-many "
                     "field of the row itself")


def _joins(model, paths):
    """{path: (foreign key, its model)} for select_related paths, each prefix included, parents first."""
    joins = {}
    for path in paths:
        current, prefix = model, ""
        for part in path.split("__"):
            field = current._meta.get_field(part)
            if not (field.many_to_one or field.one_to_one) or not field.concrete:
                raise ValueError(f"read_related: {current.__name__}.{part} is not a foreign key")
            prefix = f"{prefix}__{part}" if prefix else part
            joins.setdefault(prefix, (field, field.related_model))
            current = field.related_model
    return joins


def _decode(field, value, connection):
    if value is None:
        return None
    value = field.to_python(value)
    if isinstance(value, datetime.datetime) and settings.USE_TZ and timezone.is_naive(value):
        value = timezone.make_aware(value, connection.timezone)  # SQLite keeps the connection's zone (UTC)
    return value


def _build(model, data, connection):
    fields = _json_fields(model)
    values = [_decode(f, data[f.attname], connection) for f in fields]
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def _ordered(model, rows):
    """`rows` in the model's Meta.ordering (field names, "-" for descending), as the query would return them;
    a NULL sorts as PostgreSQL sorts it: after every value, before them when descending."""
    meta = model._meta
    for key in reversed(meta.ordering or ["pk"]):
        if not isinstance(key, str) or "__" in key:
            raise ValueError(f"read_related: {model.__name__} is ordered by {key!r}; name its own fields")
        name = key.lstrip("-")
        attname = meta.pk.attname if name == "pk" else meta.get_field(name).attname
        rows.sort(key=lambda row: (getattr(row, attname) is None, getattr(row, attname)),
                  reverse=key.startswith("-"))
    return rows


def read_related(instance, relations):
    """Read `relations` of `instance` (a saved row) in one statement and keep them on it as prefetch_related()
    would: `instance.whys.all()`, `action.attachments.all()` then answer without a query, in each model's
    Meta.ordering, each child with its parent cached. `relations`: {path: (select_related paths, …)}, the paths as
    prefetch_related names them ("whys", "actions__attachments"; a parent before its children; a many-to-many
    field only on `instance` itself). Returns `instance`."""
    using = instance._state.db or "default"
    plan, branches = {}, []  # path: (model, reverse foreign key or None, joins, lookup back to `instance`)
    for index, (path, joined) in enumerate(relations.items()):
        parent_path, _, name = path.rpartition("__")
        if parent_path and parent_path not in plan:
            raise ValueError(f"read_related: name {parent_path!r} before {path!r}")
        if parent_path and plan[parent_path][1] is None:
            raise ValueError(f"read_related: {parent_path!r} is a many-to-many field; read no relation below it")
        parent_model = plan[parent_path][0] if parent_path else instance.__class__
        model, lookup, reverse_fk = _relation(parent_model, name, first=not parent_path)
        if parent_path:
            lookup = f"{lookup}__{plan[parent_path][3]}"
        joins = _joins(model, joined)
        plan[path] = (model, reverse_fk, joins, lookup)
        columns = {_OWN: JSONObject(**{f.attname: F(f.attname) for f in _json_fields(model)})}
        for join_path, (_, join_model) in joins.items():
            columns[join_path] = JSONObject(**{f.attname: F(f"{join_path}__{f.attname}")
                                               for f in _json_fields(join_model)})
        branches.append(model._default_manager.using(using).filter(**{lookup: instance.pk}).order_by()
                        .values_list(Value(index, output_field=IntegerField()), JSONObject(**columns)))
    paths, connection = list(plan), connections[using]
    rows = defaultdict(list)
    for index, data in branches[0].union(*branches[1:], all=True) if branches else ():
        if isinstance(data, str):  # a JSON object the backend returned as text
            data = json.loads(data)
        path = paths[index]
        model, _, joins, _ = plan[path]
        row = _build(model, data[_OWN], connection)
        for join_path, (field, join_model) in joins.items():  # parents first: a nested join finds its owner
            owner = row if "__" not in join_path else _joined_row(row, join_path.rpartition("__")[0])
            if owner is not None:
                joined_row = data[join_path]
                is_null = joined_row[join_model._meta.pk.attname] is None
                field.set_cached_value(owner, None if is_null else _build(join_model, joined_row, connection))
        rows[path].append(row)
    for path, (model, reverse_fk, _, _) in plan.items():
        parent_path, _, name = path.rpartition("__")
        parents = rows[parent_path] if parent_path else [instance]
        by_parent = defaultdict(list)
        for child in _ordered(model, rows[path]):
            by_parent[getattr(child, reverse_fk.attname) if reverse_fk else instance.pk].append(child)
        for parent in parents:
            group = by_parent.get(parent.pk, [])
            if reverse_fk is not None:
                for child in group:
                    reverse_fk.set_cached_value(child, parent)
            keep_related(parent, name, group)
    return instance


def _joined_row(row, path):
    for part in path.split("__"):
        if row is None:
            return None
        row = row._meta.get_field(part).get_cached_value(row, default=None)
    return row
