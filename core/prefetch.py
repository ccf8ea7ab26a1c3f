"""Rows a step has just written or read, kept on the instance they belong to as `prefetch_related()` would keep
them, so the snapshot that follows in the same step prints them without reading them back."""


def keep_related(instance, name, rows):
    """`rows` are `instance`'s `name` (a reverse foreign key, e.g. an order's lines) as they stand now:
    `getattr(instance, name).all()` answers with them, in this order, without a query. Returns `instance`.
    Django keeps prefetched rows the same way (QuerySet._result_cache and _prefetch_done, the instance's
    _prefetched_objects_cache); its prefetch_related_objects() would read them again."""
    kept = getattr(instance, name).all()
    kept._result_cache, kept._prefetch_done = list(rows), True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = kept
    return instance
