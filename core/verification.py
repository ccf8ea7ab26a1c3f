"""System verification (SIG-1): recompute every hash and check every link.

Yields Problems naming the broken item; `verify_audit` prints them and exits
non-zero. Checks: the audit chain; each record version's content hash; each
signature's binding and its own hash; each stored file's SHA-256; each of those rows
against the hashes its audit entry recorded; the chain and those rows against every
signed checkpoint of the store outside the database (core.checkpoints); and (as a
warning) working data that differs from the record's last version.

`verify(since_checkpoint=True)` runs incrementally: from the last signed checkpoint
(its entry must recompute to the signed hash, which fixes the chain before it, and
the rows it anchored must digest as signed), re-hashing only what came after it."""
import functools
import hashlib
from dataclasses import dataclass, field

from django.db.models import Max, Min

from . import parallel, registry
from .audit import Problem, verify_chain
from .canonical import jsonable
from .checkpoints import NO_KEY, AnchorScan, CheckpointError, Store, anchoring_problems
from .esign import signature_problems
from .models import AuditEntry, Record, RecordFile, RecordVersion, Signature, Tombstone


def _only(qs, ids, chunk=500):
    """The rows of `qs` (all of them when `ids` is None, else those whose pk is in `ids`)."""
    if ids is None:
        yield from qs.iterator(chunk_size=chunk)
        return
    ids = sorted(ids)
    for start in range(0, len(ids), chunk):
        yield from qs.filter(pk__in=ids[start:start + chunk])


def _tombstones():
    """{record id: Tombstone} of destroyed records, whose versions keep only their
    hashes (evidence.retention): they are checked against the tombstone instead."""
    return {t.record_id: t for t in Tombstone.objects.all()}


def _versions(qs):
    tombstones = _tombstones()
    for version in qs:
        tombstone = tombstones.get(version.record_id)
        if tombstone is not None:
            if not tombstone.version_ok(version):
                yield Problem("record version", f"{version.record.number} v{version.version}",
                              "destroyed record: hash or data does not match its tombstone (altered)")
            continue
        if version.compute_hash() != version.content_hash:
            yield Problem("record version", f"{version.record.number} v{version.version}",
                          "data does not match its content hash (altered)")


def _signatures(qs):
    destroyed = _tombstones()
    for signature in qs:
        problems = signature_problems(signature)
        if signature.record_version.record_id in destroyed:  # data blanked on purpose, checked with the versions
            problems = [p for p in problems if p != "the signed record version's data was altered"]
        for problem in problems:
            yield Problem("signature", f"#{signature.pk} ({signature.printed_name}, "
                                       f"{signature.record_version.record.number} v{signature.record_version.version})",
                          problem)


def _files(qs):
    tombstones = _tombstones()
    for file in qs:
        ident = f"{file.record_version.record.number} {file.key}"
        tombstone = tombstones.get(file.record_version.record_id)
        if tombstone is not None:  # deleted at disposition; its hash must be the one the tombstone kept
            if tombstone.file_hashes.get(file.key) != file.sha256:
                yield Problem("stored file", ident, "destroyed record: SHA-256 does not match its tombstone")
            continue
        try:
            with file.file.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256")
        except (FileNotFoundError, OSError):
            yield Problem("stored file", ident, "missing")
            continue
        if digest.hexdigest() != file.sha256:
            yield Problem("stored file", ident, "content does not match its SHA-256 (altered)")


# kind: (queryset in pk order, checker, chunk size)
_ROWS = {
    "version": (lambda: RecordVersion.objects.select_related("record").order_by("pk"), _versions, 500),
    "signature": (lambda: Signature.objects.select_related("record_version__record").order_by("pk"), _signatures, 500),
    "file": (lambda: RecordFile.objects.select_related("record_version__record").order_by("pk"), _files, 200),
}


def _row_range(lo, hi, kind):
    """The problems of the rows of `kind` with lo < pk <= hi (one worker's share of a parallel run)."""
    queryset, checker, chunk = _ROWS[kind]
    return list(checker(queryset().filter(pk__gt=lo, pk__lte=hi).iterator(chunk_size=chunk)))


def verify_rows(kind, ids=None, jobs=1):
    """The problems of the rows of `kind` ("version", "signature", "file"): all of them when `ids` is None (split
    by pk over `jobs` processes), else those whose pk is in `ids`."""
    queryset, checker, chunk = _ROWS[kind]
    if ids is not None or jobs <= 1:
        yield from checker(_only(queryset(), ids, chunk))
        return
    bounds = queryset().model.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    for problems in parallel.map_ranges(functools.partial(_row_range, kind=kind),
                                        parallel.split(bounds["lo"] - 1, bounds["hi"], jobs), jobs):
        yield from problems


def working_data_warnings(record_ids=None):
    for record in _only(Record.objects.exclude(tombstone__isnull=False).order_by("pk"), record_ids, 200):
        try:
            rtype = registry.get(record.record_type)
        except KeyError:
            continue
        try:
            current = record.versions.get(version=record.current_version).data
            snapshot = rtype.snapshot(record) if rtype.snapshot else None
        except Exception:  # noqa: BLE001 — a record without working rows is reported, not fatal
            yield Problem("record", record.number, "working data cannot be rebuilt")
            continue
        if snapshot is not None and jsonable(snapshot) != current:
            yield Problem("record", record.number,
                          f"working data differs from the last version v{record.current_version} ({rtype.code})")


def check(store=None, *, since=None, upto=None, jobs=1):
    """Verify the chain and the rows, from the genesis or from the checkpoint `since`, against every checkpoint
    of `store`, up to audit entry `upto` (all when None), the chain and the rows over `jobs` processes.
    Returns (counts, problems, scan)."""
    checkpoints = store.checkpoints if store is not None else []
    at = [c.seq for c in checkpoints] + ([upto] if upto is not None else [])
    problems = list(store.problems) if store is not None else []
    problems += verify_chain(since=(since.seq, since.hash) if since else None, upto=upto, jobs=jobs)
    scan = AnchorScan(at, detail_after=since.seq if since else 0, upto=upto).run()
    problems += scan.problems
    if store is not None:
        ends = AuditEntry.objects.filter(seq__lte=upto) if upto is not None else AuditEntry.objects
        problems += anchoring_problems(store, scan, chain_end=ends.aggregate(end=Max("seq"))["end"] or 0)
    ids = scan.created_after if since else {"version": None, "signature": None, "file": None}
    for kind in ("version", "signature", "file"):
        problems += verify_rows(kind, ids[kind], jobs)
    entries = AuditEntry.objects.filter(seq__gte=since.seq) if since else AuditEntry.objects.all()
    if upto is not None:
        entries = entries.filter(seq__lte=upto)
    counts = {"audit entries": entries.count()}
    for what, kind, model in (("record versions", "version", RecordVersion), ("signatures", "signature", Signature),
                              ("stored files", "file", RecordFile)):
        counts[what] = len(ids[kind]) if since else model.objects.count()
    counts["checkpoints"] = len(checkpoints)
    return counts, problems, scan


@dataclass
class Verification:
    counts: dict
    problems: list
    warnings: list = field(default_factory=list)
    store: Store = None
    since: object = None  # the checkpoint an incremental run started from

    @property
    def anchored(self):
        return self.store is not None and bool(self.store.checkpoints)


def _starting_checkpoint(store):
    """The checkpoint an incremental run starts from: the last one of the store whose audit entry the chain still
    reaches (a chain that ends before a later checkpoint, truncated or restored from an older backup, is named by
    `anchoring_problems` all the same)."""
    end = AuditEntry.objects.aggregate(end=Max("seq"))["end"] or 0
    within = [c for c in store.checkpoints if c.seq <= end]
    return within[-1] if within else None


def verify(*, since_checkpoint=False, warn_full=True, jobs=1):
    """Verify everything (or, `since_checkpoint`, what came after the last signed checkpoint) against every
    checkpoint of the store, over `jobs` processes. A missing key or an empty store is a warning: the chain is not anchored."""
    warnings, problems = [], []
    try:
        store = Store.load()
    except CheckpointError as error:
        store = None
        problems.append(Problem("checkpoint", "configuration", str(error)))
    if store is not None and not store.public_keys:
        detail = f"not anchored: {NO_KEY}"
        if store.files:
            detail += f"; the {store.files} checkpoint file(s) in {store.directory} cannot be verified"
        warnings.append(Problem("audit chain", "anchoring", detail))
        store = None
    elif store is not None and not store.checkpoints and not store.problems:
        warnings.append(Problem("audit chain", "anchoring", f"not anchored yet: no checkpoint in {store.directory}"))
    since = _starting_checkpoint(store) if since_checkpoint and store is not None else None
    if since_checkpoint and since is None and warn_full:
        warnings.append(Problem("verification", "incremental", "no signed checkpoint to start from: full run"))
    counts, found, _scan = check(store, since=since, jobs=jobs)
    problems += found
    touched = None
    if since is not None:
        touched = set(AuditEntry.objects.filter(seq__gt=since.seq, record__isnull=False)
                      .values_list("record_id", flat=True))
    warnings += working_data_warnings(touched)
    return Verification(counts, problems, warnings, store, since)


def verify_since(checkpoint, *, upto, store):
    """What a new checkpoint needs first (core.checkpoints.make_checkpoint): the problems from `checkpoint`
    (or the genesis) up to audit entry `upto`, checked against every checkpoint of `store`."""
    _counts, problems, scan = check(store, since=checkpoint, upto=upto)
    return problems, scan


def verify_all(*, since_checkpoint=False):
    """(counts, problems, warnings)."""
    result = verify(since_checkpoint=since_checkpoint)
    return result.counts, result.problems, result.warnings
