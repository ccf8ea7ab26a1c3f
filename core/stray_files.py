"""Stored files that no row names: found, explained, and removed with an audit entry.

A file is written to storage before the row that names it commits (a rendered PDF, an upload). When that
transaction does not commit, the code that wrote the file removes it again (forms.pdf discards a rendering
whose row did not commit). Two cases leave it behind all the same: the process is killed between the write
and the commit (a worker lost mid-render: the next delivery renders the version again under a new name), and
an outer transaction rolls back after the inner one that wrote the file had finished. Such a file holds no
record: its row never existed. It costs disk space, and an auditor listing the storage finds a file the
system cannot account for.

A file whose row once existed and was deleted behind the application is a different thing: evidence. The
row's audit entry (written in the same transaction) or the record version that hashed the upload still names
it. `find` reports such a file as *named by the audit trail*, and `remove` refuses to touch it: the integrity
check (core.verification) and the auditor need it.

Only the default storage's fields with a fixed folder are looked at (`records/%Y/`, `complaints/%Y/%m/`, …);
a file younger than the grace period may belong to a transaction still running and is never reported.
Run `manage.py stray_files` to list, `--remove --actor <superuser> --reason …` to remove.
"""

import datetime
import hashlib
import json
import posixpath
from dataclasses import dataclass

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from core import audit
from core.models import AuditEntry, RecordVersion

GRACE = datetime.timedelta(hours=1)  # no transaction of this system runs that long; a younger file may be in one
AUDIT_WINDOW = 2 * GRACE  # an entry naming the file is written in the transaction that wrote it, which GRACE bounds
CHUNK = 1 << 20
REMOVED = "storage.stray_removed"


class Refused(Exception):
    """Why a stray file was not removed."""


@dataclass
class StrayFile:
    name: str  # the storage name ("records/2026/OR-2026-0001-v1_a8Xk2.pdf")
    size: int
    modified: datetime.datetime
    sha256: str
    named_by: str | None = None  # "audit entry #1234 (record.rendered)": evidence, never removed
    # written after the audit trail's last entry: the database may be older than the storage (restored from a dump
    # taken before the file was written), and the file the only trace of a record; never removed
    after_trail: str | None = None  # "2026-12-06 02:10:07 UTC", or "none: the trail is empty"

    @property
    def evidence(self):
        return self.named_by is not None or self.after_trail is not None

    @property
    def kept_because(self):
        if self.named_by is not None:
            return f"named by {self.named_by}: its row was deleted behind the application"
        if self.after_trail is not None:
            return (f"written after the audit trail's last entry ({self.after_trail}): the database may be older "
                    f"than the storage")
        return ""


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
    digest = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _named_by(name, sha256, modified):
    """The audit entry, or the record version, written near `modified` that names the file (by its storage
    name, or by its SHA-256 when no stored row holds those bytes), or None. The window keeps this to the
    entries of about two hours, on the timestamp index, however long the trail.

    A render cut off and done again writes the same bytes under another name: the second file's entry names
    the first's SHA-256, and its row holds it. The first is then a copy of a file kept, not the trace of a
    deleted row."""
    window = (modified - AUDIT_WINDOW, modified + AUDIT_WINDOW)
    versions = []
    by_hash = None  # "audit entry #…" of the first entry naming the SHA-256 alone
    # (an earlier removal names it too: its delete did not happen, and the file is stray still)
    for entry in (AuditEntry.objects.filter(timestamp__range=window).exclude(action=REMOVED).order_by("seq")
                  .only("seq", "action", "object_type", "object_id", "old_values", "new_values").iterator()):
        text = json.dumps([entry.old_values, entry.new_values], ensure_ascii=False)
        if name in text:
            return f"audit entry #{entry.seq} ({entry.action})"
        if by_hash is None and sha256 in text:
            by_hash = f"audit entry #{entry.seq} ({entry.action})"
        if entry.action == "record.version_created" and entry.object_id.isdigit():
            versions.append(int(entry.object_id))
    if by_hash is None:
        # an upload's SHA-256 goes into the record version that takes it, not always into the audit entry
        for version in RecordVersion.objects.filter(pk__in=versions).only("pk", "version", "record_id", "data"):
            if sha256 in json.dumps(version.data, ensure_ascii=False):
                by_hash = f"record version {version.pk} (v{version.version} of record {version.record_id})"
                break
    if by_hash is not None and not _held(sha256):
        return by_hash
    return None


def _held(sha256):
    """Whether a row of a swept model holds a file with these bytes."""
    return any(model._base_manager.filter(sha256=sha256).exists()
               for model in {model for fields in file_fields().values() for model, _field in fields}
               if any(f.name == "sha256" for f in model._meta.get_fields()))


def find(storage=None, *, older_than=GRACE, now=None):
    """The stored files older than `older_than` that no row names, in name order."""
    storage = storage or default_storage
    now = now or timezone.now()
    strays = []
    trail_end = AuditEntry.objects.order_by("-seq").values_list("timestamp", flat=True).first()
    for top, fields in sorted(file_fields().items()):
        if not storage.exists(top):
            continue
        named = _named(fields, top)
        for name in sorted(_walk(storage, top)):
            if name in named:
                continue
            modified = storage.get_modified_time(name)
            if now - modified < older_than:
                continue
            sha256 = _sha256(storage, name)
            strays.append(StrayFile(name=name, size=storage.size(name), modified=modified, sha256=sha256,
                                    named_by=_named_by(name, sha256, modified),
                                    after_trail=_after(trail_end, modified)))
    return strays


def _after(trail_end, modified):
    if trail_end is None:
        return "none: the trail is empty"
    return f"{trail_end:%Y-%m-%d %H:%M:%S} UTC" if modified > trail_end else None


def _still_named(name):
    top = name.split("/", 1)[0]
    return any(model._base_manager.filter(**{field: name}).exists() for model, field in file_fields().get(top, ()))


def remove(stray, *, actor, reason, storage=None):
    """Remove one file that `find` reported, with an audit entry; the file goes when the entry commits.

    Refused: without a reason, by anyone but an active superuser, for a file the audit trail names or one written
    after its last entry (evidence), for one a row names now, and for one that changed or went since it was found."""
    storage = storage or default_storage
    if not (reason or "").strip():
        raise Refused("a reason is required")
    if actor is None or not (actor.is_active and actor.is_superuser):
        raise Refused("only an active superuser removes stored files")
    if stray.evidence:
        raise Refused(f"{stray.name} is {stray.kept_because}: kept as evidence")
    with transaction.atomic():
        if _still_named(stray.name):
            raise Refused(f"{stray.name} is named by a row now")
        if not storage.exists(stray.name) or _sha256(storage, stray.name) != stray.sha256:
            raise Refused(f"{stray.name} changed or went since it was found")
        named_by = _named_by(stray.name, stray.sha256, stray.modified)
        if named_by is not None:
            raise Refused(f"{stray.name} is named by {named_by}: kept as evidence")
        if not AuditEntry.objects.filter(timestamp__gt=stray.modified).exists():
            raise Refused(f"{stray.name} was written after the audit trail's last entry: kept as evidence")
        audit.log(REMOVED, ("storage.file", stray.sha256, stray.name[:200]), actor=actor,
                  reason=reason.strip(), new={"file": stray.name, "size": stray.size, "sha256": stray.sha256,
                                              "written": stray.modified.isoformat()})
        transaction.on_commit(lambda: storage.delete(stray.name))
