"""The audit trail: one append-only, hash-chained log for every state change.

`log()` must run inside the transaction of the change it records (it asserts so),
so the entry and the change commit or roll back together (SIG-5). Appends are
serialised by locking the single AuditHead row, which keeps `seq` gap-free and
each entry's `prev_hash` equal to the previous entry's hash.

Inside `audit.atomic()` (the transaction every workflow action runs in) entries are
not written one by one: `log()` builds them, and the block appends them all at its
end, just before the transaction commits, in three statements (lock the head, one
multi-row INSERT, move the head). The head row is then held from that moment to the
commit instead of from the first entry of the transaction to its end, so concurrent
transactions wait on it for a few milliseconds, not for the whole step (README "Audit
chain under load"). An entry logged in a savepoint that is rolled back is dropped
with its change. Outside `audit.atomic()` each entry is appended at once, as before. Rows of other tables that
nothing reads before the commit may wait for the end of the block the same way (`insert_later()`).
"""
import functools
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from . import context, parallel
from .canonical import jsonable, sha256_hex
from .models import GENESIS_HASH, AuditEntry, AuditHead


def _describe(obj):
    if obj is None:
        return "", "", ""
    if isinstance(obj, tuple):  # ("type", "id", "repr") for things that are not model rows
        return obj
    return obj._meta.label_lower, str(obj.pk), str(obj)[:200]


def log(action, obj=None, *, actor=None, old=None, new=None, reason="", record=None, process_id=None,
        on_behalf_of=None):
    """Append an audit entry for `action` on `obj`. Call inside the change's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.log() must run inside the transaction of the change it records")
    object_type, object_id, object_repr = _describe(obj)
    trigger = context.triggered_by()
    if trigger is not None and context.is_system(actor) and trigger != actor:
        # an automatic step: the system acts, and the entry keeps whose action set it off (the record page says
        # "System …, triggered by 王芳")
        new = {**(new or {}), "triggered_by": getattr(trigger, "printed_name", str(trigger))}
    entry = AuditEntry(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=(actor.printed_name if actor is not None and actor.is_authenticated else "system"),
        on_behalf_of=on_behalf_of,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        record=record,
        process_id=process_id,
        old_values=jsonable(old) if old is not None else None,
        new_values=jsonable(new) if new is not None else None,
        reason=reason or "",
    )
    batch = getattr(connection, "_qms_audit_batch", None)
    if batch is None:
        _append([entry])
    else:
        batch.add(entry)
    return entry


def _append(entries):
    """Append `entries` to the chain, in order: lock the head, one INSERT, move the head (3 statements).
    Each entry is stamped with the time it is appended, so `timestamp` never goes back along `seq`."""
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    seq, last_hash, now = head.last_seq, head.last_hash, timezone.now()
    for entry in entries:
        seq += 1
        entry.seq, entry.timestamp, entry.prev_hash = seq, now, last_hash
        entry.entry_hash = last_hash = entry.compute_hash()
    AuditEntry.objects.bulk_create(entries)
    AuditHead.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=last_hash)


class _Marker:
    """A no-op on_commit callback per pending entry: Django drops the callbacks registered in a savepoint
    that is rolled back, which tells the batch which entries were rolled back with their change."""

    def __call__(self):
        pass


class _Batch:
    def __init__(self):
        self.pending = []  # (marker, entry)
        self.rows = []  # (marker, row): insert_later()

    def _marked(self, item):
        marker = _Marker()
        transaction.on_commit(marker)
        return marker, item

    def add(self, entry):
        self.pending.append(self._marked(entry))

    def flush(self):
        ours = {id(marker) for marker, _item in [*self.pending, *self.rows]}
        alive = {id(func) for _sids, func, _robust in connection.run_on_commit if id(func) in ours}
        connection.run_on_commit = [c for c in connection.run_on_commit if id(c[1]) not in ours]
        rows = [row for marker, row in self.rows if id(marker) in alive]
        entries = [entry for marker, entry in self.pending if id(marker) in alive]
        self.pending, self.rows = [], []
        by_model = {}
        for row in rows:
            by_model.setdefault(type(row), []).append(row)
        for model, model_rows in by_model.items():  # before the entries: the head is locked for the last three
            model._default_manager.bulk_create(model_rows)
        if entries:
            _append(entries)


def in_atomic():
    """Is an `audit.atomic()` block open on this connection (its entries appended together at its end)?"""
    return getattr(connection, "_qms_audit_batch", None) is not None


def insert_later(row):
    """Insert `row` (a new row of a table nothing reads again before the commit: e.g. viewflow's link from a
    new task to the one before it) at the end of the enclosing `audit.atomic()` block, in one INSERT with the
    other rows of its table given so, just before the audit entries; a row given in a savepoint that is
    rolled back is dropped with it. Outside `audit.atomic()` it is inserted at once."""
    batch = getattr(connection, "_qms_audit_batch", None)
    if batch is None:
        row.save(force_insert=True)
    else:
        batch.rows.append(batch._marked(row))


@contextmanager
def atomic(savepoint=True):
    """`transaction.atomic()` whose audit entries are appended together at its end (before the commit).
    Nested inside another `audit.atomic()` it is a plain atomic block: the outermost one appends.
    `savepoint=False` as for transaction.atomic (when the enclosing block rolls back as a whole anyway)."""
    if in_atomic():
        with transaction.atomic(savepoint=savepoint):
            yield
        return
    batch = _Batch()
    with transaction.atomic(savepoint=savepoint):
        connection._qms_audit_batch = batch
        try:
            yield
        finally:
            connection._qms_audit_batch = None
        if not connection.needs_rollback:
            batch.flush()


def changed_values(before: dict, after: dict):
    """The (old, new) pair of the keys whose values differ."""
    keys = sorted(set(before) | set(after))
    old = {k: before.get(k) for k in keys if before.get(k) != after.get(k)}
    new = {k: after.get(k) for k in keys if before.get(k) != after.get(k)}
    return old, new


@dataclass
class Problem:
    kind: str
    ident: str
    detail: str

    def __str__(self):
        return f"{self.kind} {self.ident}: {self.detail}"


def _chain_range(lo, hi, seed, batch_size=2000):
    """(problems, last) of the entries with lo < seq <= hi (hi None: to the end), linked forward from `seed` =
    (seq, hash) of the entry before them; `last` = (seq, hash) of the last entry read (None when none)."""
    (expected_seq, expected_prev), problems, last = (seed[0] + 1, seed[1]), [], None
    qs = AuditEntry.objects.order_by("seq").filter(seq__gt=lo)
    if hi is not None:
        qs = qs.filter(seq__lte=hi)
    keys = AuditEntry.HASHED_KEYS
    # plain rows, not model instances: building an instance per entry cost more than hashing it
    for row in qs.values_list("entry_hash", *AuditEntry.HASHED_COLUMNS).iterator(chunk_size=batch_size):
        content = dict(zip(keys, row[1:], strict=True))
        seq, entry_hash = content["seq"], row[0]
        if seq != expected_seq:
            problems.append(Problem("audit entry", f"#{expected_seq}", f"missing (next present is #{seq})"))
        if content["prev_hash"] != expected_prev:
            problems.append(Problem("audit entry", f"#{seq}", "link to the previous entry is broken"))
        if sha256_hex(content) != entry_hash:
            problems.append(Problem("audit entry", f"#{seq}", "content was altered (hash mismatch)"))
        expected_prev, expected_seq, last = entry_hash, seq + 1, (seq, entry_hash)
    return problems, last


def _seeded_range(lo, hi, first_seed):
    """_chain_range over (lo, hi] for a worker: its seed is the last entry at or before `lo` (after the run's own
    start `first_seed`), so the link into the range is checked exactly as a serial run checks it."""
    before = None
    if lo > first_seed[0]:  # the first range starts at the run's own start: nothing lies between
        before = (AuditEntry.objects.filter(seq__lte=lo, seq__gt=first_seed[0]).order_by("-seq")
                  .values_list("seq", "entry_hash").first())
    return _chain_range(lo, hi, before or first_seed)


def verify_chain(batch_size=2000, since=None, upto=None, jobs=1):
    """Recompute every entry's hash and link. Yields a Problem for each break.

    `since` = (seq, hash) of a signed checkpoint (core.checkpoints): start there instead of at the genesis.
    The entry at `seq` must recompute to exactly that hash, which fixes every entry before it (each hash
    covers the previous one); the entries after it are linked forward from it. `upto`: stop at that seq
    (a checkpoint's snapshot); the head row is then not compared. `jobs` > 1: the entries are split into
    that many ranges of seq, each verified in its own process (core.parallel); the problems are the same,
    in the same order."""
    seed, last = (0, GENESIS_HASH), None
    if since is not None:
        start_seq, start_hash = since
        start = AuditEntry.objects.filter(seq=start_seq).first()
        if start is None:
            yield Problem("audit entry", f"#{start_seq}", "missing: the checkpoint this run starts from anchors it")
        elif start.entry_hash != start_hash or start.compute_hash() != start_hash:
            yield Problem("audit entry", f"#{start_seq}", "differs from the signed checkpoint this run starts from: "
                                                          "the chain up to it was rewritten")
        seed = (start_seq, start_hash)
        last = (start.seq, start.entry_hash) if start is not None else None
    end = upto
    if end is None:
        end = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or seed[0]
    ranges = parallel.split(seed[0], end, jobs) if jobs > 1 else [(seed[0], end)]
    results = parallel.map_ranges(functools.partial(_seeded_range, first_seed=seed), ranges, jobs)
    for problems, range_last in results:
        yield from problems
        last = range_last or last
    if upto is not None:
        return
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and last is not None and head.last_seq > last[0] and AuditEntry.objects.filter(
            seq=head.last_seq, entry_hash=head.last_hash).exists():
        return  # appended while this run read the chain (a live system): the next run verifies them
    if head is not None and last is not None and (head.last_seq != last[0] or head.last_hash != last[1]):
        yield Problem("audit chain", "head", f"head says #{head.last_seq}, last entry is #{last[0]}: entries removed")
    if head is not None and head.last_seq and last is None:
        yield Problem("audit chain", "head", "entries removed")


def in_transaction(func):
    """Decorator for action functions: they own their transaction (audit entries appended at its end)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with atomic():
            return func(*args, **kwargs)
    return wrapper
