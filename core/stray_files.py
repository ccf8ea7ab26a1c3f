"""Stored files that no row names: found, explained, and removed with an audit entry.

A file is written to storage before the row that names it commits (a rendered PDF, an upload). When that
transaction does not commit, the code that wrote the file removes it again (forms.pdf discards a rendering
whose row did not commit). Two cases leave it behind all the same: the process is killed between the write
and the commit (a worker lost mid-render: the next delivery renders the version again under a new name), and
an outer transaction rolls back after the inner one that wrote the file had finished. Such a file holds no
record: its row never existed. It costs disk space, and an auditor listing the storage finds a file the
system cannot account for.

Two other kinds of file that no row names are kept, always:
- *named*: the audit trail or a record version names it (by its storage name, or by its SHA-256). Its row once
  existed: deleted behind the application, or by the application without its file (a draft's replaced PDF).
  It is evidence; the integrity check and the auditor need it. A SHA-256 alone does not count when every entry
  naming it belongs to a record that still stores a rendered file with those bytes: a render cut off and done
  again writes the same bytes under another name, and that copy holds nothing the kept file does not.
- *quiet*: the audit trail holds no entry in the two hours after the file's writing. Everything this system
  writes is audited, so a stray is followed in the trail (the render done again after it, the user's next
  step); a file followed by nothing may come from a time the database no longer holds (restored from a dump
  taken before the file was written, whose last entries may be just before it), and be the only trace of it.

`find` looks at the entries near each file (on the timestamp index), and for a file they do not account for,
at the whole trail (a scan, for the few files no row names), as `remove` does once more before it removes
anything. Only the default storage's fields with a fixed folder are looked at
(`records/%Y/`, `complaints/%Y/%m/`, …); a file younger than the grace period may belong to a transaction
still running and is never reported. Run `manage.py stray_files` to list, `--remove --actor <superuser>
--reason …` to remove.
"""

import dataclasses
import datetime
import hashlib
import json
import logging
import posixpath

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core import audit
from core.models import AuditEntry, AuditHead, RecordFile, RecordVersion

logger = logging.getLogger(__name__)

GRACE = datetime.timedelta(hours=1)  # no transaction of this system runs that long; a younger file may be in one
AUDIT_WINDOW = 2 * GRACE  # an entry naming the file is written in the transaction that wrote it, which GRACE bounds
REMOVED = "storage.stray_removed"
# a look at the storage asked for on the stored-files page or through the API (evidence.stray_sweeps)
SWEEP_REQUESTED, SWEPT, SWEEP_FAILED = "storage.sweep_requested", "storage.swept", "storage.sweep_failed"
# entries that report on stored files without writing one: naming a file, they account for nothing, and
# following one they do not make it less quiet (a look at the storage right after a restore, say)
REPORTS = (REMOVED, SWEEP_REQUESTED, SWEPT, SWEEP_FAILED, "verification.passed", "verification.failed")
# entries of someone signing in or re-entering a password: they follow a restore as soon as an administrator opens
# the stored-files page, and say nothing about whether the database holds the time around a file
SESSION = ("auth.login", "auth.login_failed", "esign.accountability_accepted", "esign.failed", "esign.locked")
CHUNK = 50  # files removed in one transaction, the audit head held (remove_many)
NAMED, QUIET = "named", "quiet"


class Refused(Exception):
    """Why a stray file was not removed (`evidence`: it is kept as evidence, not merely not removed now). `code`
    names the refusal for a page that says it in the reader's language: "reason", "actor", "evidence" (with
    `kept` and `detail` as `examine` gave them), "named" (a row names it now), "changed" (or went), "unreadable",
    "removed" (by another removal meanwhile), "error" (anything else, logged)."""

    def __init__(self, message, *, evidence=False, code="", kept=None, detail=None):
        super().__init__(message)
        self.evidence, self.code, self.kept, self.detail = evidence, code, kept, detail or {}


@dataclasses.dataclass
class StrayFile:
    name: str  # the storage name ("records/2026/OR-2026-0001-v1_a8Xk2.pdf")
    size: int
    modified: datetime.datetime
    sha256: str
    kept: str | None = None  # NAMED or QUIET: evidence, never removed
    # what keeps it, as `examine` gives it: {"entry", "action"}, {"version_id", "version", "record"} or {"hours"}
    detail: dict = dataclasses.field(default_factory=dict)

    @property
    def evidence(self):
        return self.kept is not None

    @property
    def why(self):
        """What keeps it, in English (the command, the logs): "audit entry #1234 (record.rendered)", …"""
        return describe(self.kept, self.detail)


def file_fields():
    """{top folder: [(model, field name), …]} of every FileField in the default storage with a fixed folder."""
    folders = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.FileField) or callable(field.upload_to):
                continue
            if field.storage is not default_storage:
                continue
            top = str(field.upload_to).strip("/").split("/", 1)[0]
            if top and "%" not in top:
                folders.setdefault(top, []).append((model, field.name))
    return folders


def _named(fields, top):
    """Every file name under `top` that a row names (one query per field)."""
    names = set()
    for model, field in fields:
        names.update(model._base_manager.filter(**{f"{field}__startswith": top + "/"})
                     .values_list(field, flat=True).iterator(chunk_size=5000))
    return names


def _walk(storage, folder):
    directories, files = storage.listdir(folder)
    for name in files:
        yield posixpath.join(folder, name)
    for directory in directories:
        yield from _walk(storage, posixpath.join(folder, directory))


def _sha256(storage, name):
    with storage.open(name, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _forms(text):
    """`text` as a JSON value holding it prints it: as is, escaped as JSON with non-ASCII kept (PostgreSQL's jsonb
    text) and with non-ASCII escaped (SQLite's stored JSON)."""
    return {text, json.dumps(text, ensure_ascii=False)[1:-1], json.dumps(text)[1:-1]}


def _mentions(text):
    """A filter for the entries whose values hold `text`."""
    condition = Q()
    for form in _forms(text):
        condition |= Q(new_values__icontains=form) | Q(old_values__icontains=form)
    return condition


@dataclasses.dataclass(frozen=True)
class Among:
    """What one read of the whole audit trail and of every record version found naming any of a set of files:
    the entries' `seq` and the versions' keys. `examine(…, among=…)` looks at those alone, by key. Every entry up to
    `upto_seq` had committed when the trail was read, and `upto_version` was the newest record version then:
    `_since` adds what committed after."""

    entries: frozenset
    versions: frozenset
    upto_seq: int = 0
    upto_version: int = 0


def _like_any(column, texts):
    """A condition true where `column`, as text, holds any of `texts` in any of their forms, case aside: on
    PostgreSQL the jsonb printed as text and upper-cased once a row and matched with one `LIKE ANY` (an OR of
    `icontains` prints and folds it again for every term, as ILIKE folds it again for every pattern), elsewhere an
    OR of `icontains`. Row and patterns are folded by `UPPER()`, as `icontains` folds them, so the rows it finds are
    every row `_mentions` finds: `examine` among them answers as it would over the whole trail."""
    forms = sorted({form for text in texts for form in _forms(text)})
    if connection.vendor == "postgresql":
        patterns = ["%" + form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                    for form in forms]
        return RawSQL(f'UPPER("{column}"::text) LIKE ANY (ARRAY(SELECT UPPER(p) FROM unnest(%s::text[]) AS p))',
                      (patterns,), output_field=models.BooleanField())
    condition = Q()
    for form in forms:
        condition |= Q(**{f"{column}__icontains": form})
    return condition


def _matching(files, entries, versions):
    texts = [text for pair in files for text in pair]
    seqs = (entries.exclude(action__in=REPORTS).filter(_like_any("new_values", texts) | _like_any("old_values", texts))
            .order_by().values_list("seq", flat=True))
    keys = (versions.filter(_like_any("data", [sha256 for _name, sha256 in files])).order_by()
            .values_list("pk", flat=True))
    return frozenset(seqs), frozenset(keys)


def _committed_upto():
    """The audit head's last `seq`, read under its lock in a transaction of its own: an audited change holds the
    head from its append to its commit, so every entry up to it has committed. (Inside a caller's transaction the
    lock would be held to its end: read without it.)"""
    heads = AuditHead.objects.filter(pk=1)
    if connection.in_atomic_block:
        return heads.values_list("last_seq", flat=True).first() or 0
    with transaction.atomic():
        return heads.select_for_update().values_list("last_seq", flat=True).first() or 0


def read_whole_trail(files):
    """One read of the whole audit trail (and one of the record versions) for all of `files` — (name, sha256)
    pairs — where examining each file against the whole trail reads it two or three times a file."""
    files = list(files)
    if not files:
        return Among(frozenset(), frozenset())
    upto_seq = _committed_upto()
    upto_version = RecordVersion.objects.aggregate(newest=models.Max("pk"))["newest"] or 0
    entries, versions = _matching(files, AuditEntry.objects.all(), RecordVersion.objects.all())
    return Among(entries, versions, upto_seq, upto_version)


def _since(among, files):
    """`among` with what committed after it was read: the entries after `upto_seq` (a range of the `seq` index) and
    the record versions after `upto_version` or of a record those entries name (a version is written with its
    record's `record.version_created` entry, so one that was not yet committed at the read, whatever its key, is
    among them). Call it with the audit head locked, and nothing audited commits until the caller's does."""
    tail = AuditEntry.objects.filter(seq__gt=among.upto_seq)
    records = tail.filter(record__isnull=False).values("record_id")
    entries, versions = _matching(files, tail, RecordVersion.objects.filter(
        Q(pk__gt=among.upto_version) | Q(record_id__in=records)))
    return dataclasses.replace(among, entries=among.entries | entries, versions=among.versions | versions)


def examine(name, sha256, modified, *, whole_trail=False, among=None):
    """(NAMED or QUIET or None, detail): whether the file must be kept, and what keeps it — {"entry": seq,
    "action": …} for an audit entry, {"version_id", "version", "record"} for a record version, {"hours": …} for
    QUIET (`describe` says it in words). Looks at the entries within AUDIT_WINDOW of `modified` (the timestamp
    index), or, `whole_trail`, at every entry and record version (a scan of the trail), or, `among` (what
    `read_whole_trail` found for this file and others, read just before), at those entries and versions alone: the
    same answer as `whole_trail`. QUIET: no entry in the AUDIT_WINDOW after the file's writing — a database restored
    from a dump taken before the file was written has none there (its last entries may well be just before)."""
    entries = AuditEntry.objects.exclude(action__in=REPORTS)  # (a removal whose delete did not happen, say)
    window = (modified - AUDIT_WINDOW, modified + AUDIT_WINDOW)
    if among is not None:
        whole_trail = True
        entries = entries.filter(seq__in=among.entries)
    elif not whole_trail:
        entries = entries.filter(timestamp__range=window)
    by_name = entries.filter(_mentions(name)).order_by("seq").only("seq", "action").first()
    if by_name is not None:
        return NAMED, {"entry": by_name.seq, "action": by_name.action}
    # a copy of a rendered file still stored: every entry naming its bytes belongs to a record holding them
    holders = set(RecordFile.objects.filter(sha256=sha256).values_list("record_version__record_id", flat=True))
    for entry in entries.filter(_mentions(sha256)).order_by("seq").only("seq", "action", "record_id").iterator():
        if entry.record_id is None or entry.record_id not in holders:
            return NAMED, {"entry": entry.seq, "action": entry.action}
    if whole_trail:  # an upload's SHA-256 goes into the record version that takes it
        versions = RecordVersion.objects.filter(data__icontains=sha256)
        if among is not None:
            versions = versions.filter(pk__in=among.versions)
        version = versions.select_related("record").only("pk", "version", "record__number").order_by("pk").first()
        if version is not None:
            return NAMED, {"version_id": version.pk, "version": version.version, "record": version.record.number}
    after = (modified, modified + AUDIT_WINDOW)
    if not AuditEntry.objects.filter(timestamp__range=after).exclude(action__in=REPORTS + SESSION).exists():
        return QUIET, {"hours": AUDIT_WINDOW.total_seconds() / 3600}
    return None, {}


def describe(kept, detail):
    """What keeps a file, in English (the command's output, logs, the nightly e-mail)."""
    if kept is None:
        return ""
    if "entry" in detail:
        return f"audit entry #{detail['entry']} ({detail['action']})"
    if "version_id" in detail:
        return f"record version {detail['version_id']} (v{detail['version']} of record {detail['record']})"
    return (f"the audit trail holds no entry in the {detail['hours']:g} hours after it was written: the database "
            "may be older than the storage")


def find(storage=None, *, older_than=GRACE, now=None):
    """The stored files older than `older_than` that no row names, in name order. Each is examined against the
    entries near its writing; those they do not account for, against the whole trail, read once for all of them."""
    storage = storage or default_storage
    now = now or timezone.now()
    strays = []
    for top, fields in sorted(file_fields().items()):
        if not storage.exists(top):
            continue
        named = _named(fields, top)
        for name in sorted(_walk(storage, top)):
            if name in named:
                continue
            try:
                modified = storage.get_modified_time(name)
                if now - modified < older_than:
                    continue
                size, sha256 = storage.size(name), _sha256(storage, name)
            except FileNotFoundError:  # removed since the folder was listed (a discarded render, a removal)
                continue
            kept, detail = examine(name, sha256, modified)
            strays.append(StrayFile(name=name, size=size, modified=modified, sha256=sha256, kept=kept,
                                    detail=detail))
    # as a removal would see them: the entry naming a file may be far from the file's time
    unaccounted = [stray for stray in strays if stray.kept is None]
    among = read_whole_trail([(stray.name, stray.sha256) for stray in unaccounted])
    for stray in unaccounted:
        stray.kept, stray.detail = examine(stray.name, stray.sha256, stray.modified, among=among)
    return strays


def _still_named(name):
    top = name.split("/", 1)[0]
    return any(model._base_manager.filter(**{field: name}).exists() for model, field in file_fields().get(top, ()))


def _check_actor(actor, reason):
    if not (reason or "").strip():
        raise Refused("a reason is required", code="reason")
    if actor is None or not (actor.is_active and actor.is_superuser):
        raise Refused("only an active superuser removes stored files", code="actor")


def _delete(storage, name):
    """The delete after the removal's commit. One that fails (a storage error) is logged and leaves the file, which
    the next look lists again; the other files of the commit are deleted all the same (a robust callback)."""
    try:
        storage.delete(name)
    except Exception:  # noqa: BLE001 — logged; the file stays and is listed again
        logger.exception("stored file %s: its removal was recorded but the file could not be deleted", name)


def _digest(storage, stray):
    """The file's SHA-256 now, None if it went, or the OSError that kept it from being read."""
    try:
        return _sha256(storage, stray.name)
    except FileNotFoundError:
        return None
    except OSError as error:
        return error


def _remove_one(stray, *, actor, reason, storage, among, digest):
    """Remove one file inside a chunk's transaction, the audit head locked and `among` brought up to date
    (`remove_many`); `digest`: the file's SHA-256 read just before the chunk (`_digest`)."""
    if stray.evidence:
        raise Refused(f"{stray.name} is kept as evidence ({stray.kept}: {stray.why})", evidence=True,
                      code="evidence", kept=stray.kept, detail=stray.detail)
    if isinstance(digest, OSError):
        raise Refused(f"{stray.name} could not be read: {digest}", code="unreadable")
    if digest != stray.sha256:
        raise Refused(f"{stray.name} changed or went since it was found", code="changed")
    with transaction.atomic():
        if _still_named(stray.name):
            raise Refused(f"{stray.name} is named by a row now", code="named")
        if AuditEntry.objects.filter(seq__gt=among.upto_seq, action=REMOVED, object_type="storage.file",
                                     object_id=stray.sha256, object_repr=stray.name[:200]).exists():
            # by another removal since this one read the trail (its delete runs after its commit)
            raise Refused(f"{stray.name} was removed meanwhile", code="removed")
        kept, detail = examine(stray.name, stray.sha256, stray.modified, among=among)
        if kept is not None:
            raise Refused(f"{stray.name} is kept as evidence ({kept}: {describe(kept, detail)})", evidence=True,
                          code="evidence", kept=kept, detail=detail)
        entry = audit.log(REMOVED, ("storage.file", stray.sha256, stray.name[:200]), actor=actor,
                          reason=reason.strip(), new={"file": stray.name, "size": stray.size, "sha256": stray.sha256,
                                                      "written": stray.modified.isoformat()})
        transaction.on_commit(lambda: _delete(storage, stray.name), robust=True)
    return entry


def remove(stray, *, actor, reason, storage=None):
    """Remove one file that `find` reported, with an audit entry; the file goes when the entry commits. Returns
    the entry (`remove_many` for one file).

    Refused: without a reason, by anyone but an active superuser, for a file kept as evidence (named by the
    whole audit trail or a record version, or quiet), for one a row names now, for one that changed or went
    since it was found or was removed meanwhile, and for one that cannot be read."""
    [(_stray, outcome)] = remove_many([stray], actor=actor, reason=reason, storage=storage)
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def remove_many(strays, *, actor, reason, storage=None, on_chunk=None):
    """Remove `strays`, reading the whole trail once for all of them (where reading it for each file reads it two
    or three times a file): [(stray, the entry or the Refused)], in order.

    The trail is read outside any lock; then each CHUNK of files is read from storage (its SHA-256) and removed in a
    transaction that first locks the audit head — nothing audited commits while it runs — and reads what committed
    since (`_since`: the newest entries, by `seq`), so that no entry or record version naming a file, nor another
    removal of it, can slip in between the read and the removal; the rest of the system waits only for a chunk's
    checks against the database, never for the read of the trail or of the files. An error with one file (a
    storage or database error) refuses that file, its savepoint rolled back, and the others go on.
    `on_chunk(outcomes)` runs after each chunk's commit (to mark them on a look). Call it outside a transaction:
    inside one, the read would hold the head to the end."""
    storage = storage or default_storage
    _check_actor(actor, reason)
    if audit.in_atomic():
        raise RuntimeError("remove_many() appends each removal's entry at once: call it outside audit.atomic()")
    candidates = [(stray.name, stray.sha256) for stray in strays if not stray.evidence]
    among = read_whole_trail(candidates)
    outcomes = []
    for first in range(0, len(strays), CHUNK):
        chunk, done = strays[first:first + CHUNK], []
        digests = [_digest(storage, stray) for stray in chunk]  # before the lock: stored files are never rewritten
        with transaction.atomic():
            AuditHead.objects.select_for_update().get_or_create(pk=1)
            current = _since(among, candidates) if candidates else among
            for stray, digest in zip(chunk, digests):
                try:
                    outcome = _remove_one(stray, actor=actor, reason=reason, storage=storage, among=current,
                                          digest=digest)
                except Refused as refusal:
                    outcome = refusal
                except Exception as error:  # noqa: BLE001 — this file refused, the others go on
                    logger.exception("stored file %s could not be removed", stray.name)
                    outcome = Refused(f"{stray.name} could not be removed: {error!r}", code="error")
                done.append((stray, outcome))
        if on_chunk is not None:
            on_chunk(done)
        outcomes.extend(done)
    return outcomes
