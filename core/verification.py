"""System verification (SIG-1): recompute every hash and check every link.

Yields Problems naming the broken item; `verify_audit` prints them and exits
non-zero. Checks: the audit chain; each record version's content hash; each
signature's binding and its own hash; each stored file's SHA-256; and (as a
warning) working data that differs from the record's last version."""
import hashlib

from .audit import Problem, verify_chain
from .esign import signature_problems
from .models import Record, RecordFile, RecordVersion, Signature


def _tombstones():
    """{record id: Tombstone} of destroyed records, whose versions keep only their
    hashes (evidence.retention): they are checked against the tombstone instead."""
    from evidence.models import Tombstone

    return {t.record_id: t for t in Tombstone.objects.all()}


def verify_versions():
    tombstones = _tombstones()
    for version in RecordVersion.objects.select_related("record").iterator(chunk_size=500):
        tombstone = tombstones.get(version.record_id)
        if tombstone is not None:
            from evidence.retention import destroyed_version_ok

            if not destroyed_version_ok(version, tombstone):
                yield Problem("record version", f"{version.record.number} v{version.version}",
                              "destroyed record: hash or data does not match its tombstone (altered)")
            continue
        if version.compute_hash() != version.content_hash:
            yield Problem("record version", f"{version.record.number} v{version.version}",
                          "data does not match its content hash (altered)")


def verify_signatures():
    destroyed = _tombstones()
    for signature in Signature.objects.select_related("record_version__record").iterator(chunk_size=500):
        problems = signature_problems(signature)
        if signature.record_version.record_id in destroyed:  # data blanked on purpose, checked in verify_versions
            problems = [p for p in problems if p != "the signed record version's data was altered"]
        for problem in problems:
            yield Problem("signature", f"#{signature.pk} ({signature.printed_name}, "
                                       f"{signature.record_version.record.number} v{signature.record_version.version})",
                          problem)


def verify_files():
    tombstones = _tombstones()
    for file in RecordFile.objects.select_related("record_version__record").iterator(chunk_size=200):
        ident = f"{file.record_version.record.number} v{file.record_version.version} {file.kind}"
        tombstone = tombstones.get(file.record_version.record_id)
        if tombstone is not None:  # deleted at disposition; its hash must be the one the tombstone kept
            if tombstone.file_hashes.get(f"v{file.record_version.version} {file.kind}") != file.sha256:
                yield Problem("stored file", ident, "destroyed record: SHA-256 does not match its tombstone")
            continue
        try:
            digest = hashlib.sha256()
            with file.file.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 16), b""):
                    digest.update(chunk)
        except (FileNotFoundError, OSError):
            yield Problem("stored file", ident, "missing")
            continue
        if digest.hexdigest() != file.sha256:
            yield Problem("stored file", ident, "content does not match its SHA-256 (altered)")


def working_data_warnings():
    from . import registry

    for record in Record.objects.exclude(tombstone__isnull=False).iterator(chunk_size=200):
        try:
            rtype = registry.get(record.record_type)
        except KeyError:
            continue
        from forms.order_review import snapshot_for_record

        try:
            current = record.versions.get(version=record.current_version).data
            snapshot = rtype.snapshot(record) if rtype.snapshot else snapshot_for_record(record)
        except Exception:  # noqa: BLE001 — a record without working rows is reported, not fatal
            yield Problem("record", record.number, "working data cannot be rebuilt")
            continue
        from .canonical import jsonable

        if snapshot is not None and jsonable(snapshot) != current:
            yield Problem("record", record.number,
                          f"working data differs from the last version v{record.current_version} ({rtype.code})")


def verify_all():
    """(counts, problems, warnings)."""
    problems = []
    problems += list(verify_chain())
    problems += list(verify_versions())
    problems += list(verify_signatures())
    problems += list(verify_files())
    warnings = list(working_data_warnings())
    from .models import AuditEntry

    counts = {"audit entries": AuditEntry.objects.count(), "record versions": RecordVersion.objects.count(),
              "signatures": Signature.objects.count(), "stored files": RecordFile.objects.count()}
    return counts, problems, warnings
