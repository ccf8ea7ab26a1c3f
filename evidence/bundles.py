"""Evidence bundles (SIG-2): a signed ZIP of records for an auditor.

`request_bundle()` stores the request and queues `build_bundle()` on commit; the
Celery task writes the ZIP member by member straight to disk (each PDF copied in
64 KiB chunks), so memory stays bounded whatever the number of records. A large
bundle is written in ranges of records by forked processes, one per core, and
their members copied into the one ZIP (bundle_processes, _write_ranges). Every
member's SHA-256 is computed while it is written and listed in manifest.json;
manifest.sig is the organisation's Ed25519 signature of manifest.json's exact
bytes, and signer.pub.pem the public key to check it with (README.txt inside the
bundle explains the check with openssl and sha256sum only)."""
import glob
import hashlib
import html
import io
import json
import logging
import os
import signal
import struct
import threading
import zipfile
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from celery import shared_task

from core import audit
from core.esign import signature_problems
from core.canonical import canonical_json, jsonable
from core.errors import InvalidInput
from core.models import AuditEntry, Record, RecordFile, RecordVersion, Signature
from forms import sheets
from forms.pdf import KINDS, render_version

from . import signing
from .models import EvidenceBundle

logger = logging.getLogger(__name__)

CHUNK = 1 << 16
#: The copy of each version's PDF a bundle carries: the PDF/A-3b archive copy, the version's pages with its
#: canonical JSON embedded (forms.pdf.write_pdf_bytes). The plain copy has the same pages, written from the
#: same layout; it is not copied again: files.json lists both stored files with their SHA-256, so a plain copy
#: met elsewhere (a download, an e-mail) can still be matched. One copy halves what a bundle writes.
BUNDLED_KIND = RecordFile.Kind.ARCHIVE
CHUNK_RECORDS = 100
# A bundle streams to disk: its size is bounded by the disk, not by memory. The bound only keeps one
# request's id list (a JSON column) reasonable; an audit of a whole registry is split by period.
MAX_RECORDS = 100_000

README = """Evidence bundle {id} — {company}
Built {built} for {user}. {count} record(s).

Offline verification (standard tools only, OpenSSL 3 or later):

  1. The manifest's signature (organisation key, Ed25519):
       openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in manifest.json -sigfile manifest.sig
     prints "Signature Verified Successfully".
     Compare the key with the one published by the organisation:
       {fingerprint}  (SHA-256 of signer.pub.pem)
  2. Every file against the signed manifest:
       sha256sum -c SHA256SUMS
     and SHA256SUMS itself is listed in manifest.json:
       sha256sum SHA256SUMS

Or, with the QMS engine installed:  python manage.py verify_bundle THIS.zip

Contents: index.csv and index.html list the records; for each record, records/<number>/ holds
  v<n>.json         version n's data as canonical JSON (its SHA-256 is the version's content hash,
                    the hash each signature of that version is bound to)
  v<n>-pdfa.pdf     version n as printed: PDF/A-3b, with v<n>.json embedded
  v<n>-r<k>-pdfa.pdf  a corrected rendering k of version n, added where the first could not be read in
                    every viewer (files.json says when, by whom and why); the first is kept beside it
  files.json        the files the system stored for each version (the plain PDF and the PDF/A copy,
                    the same pages) with their SHA-256 and size, to match a copy met elsewhere, and
                    any problem found with them while the bundle was built
  tombstone.json    for a record destroyed under the retention schedule, in place of the above:
                    who approved it, when, why, and the hashes of what was destroyed
  signatures.json   who signed which version, when, in what role and meaning, and whether it verifies
  audit.json, audit.csv   the record's audit trail
"""


def bundle_dir() -> Path:
    path = Path(getattr(settings, "QMS_BUNDLE_DIR", None) or Path(settings.VAR_DIR) / "bundles")
    path.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def request_bundle(*, actor, records, title="", query=None):
    """Queue a bundle of `records` (already limited to what `actor` may see)."""
    ids = list(records.order_by("number").values_list("pk", flat=True)[:MAX_RECORDS + 1])
    if not ids:
        raise InvalidInput(_("Select at least one record."), field_errors={"record": [_("Required.")]})
    if len(ids) > MAX_RECORDS:
        raise InvalidInput(_("At most %(n)d records per bundle.") % {"n": MAX_RECORDS})
    bundle = EvidenceBundle.objects.create(created_by=actor, record_ids=ids, title=title[:200], query=query or {})
    audit.log("evidence.bundle_requested", bundle, actor=actor,
              new={"records": len(ids), "query": query or {}, "numbers": list(
                  Record.objects.filter(pk__in=ids[:200]).order_by("number").values_list("number", flat=True))})
    transaction.on_commit(lambda: build_evidence_bundle.delay(bundle.pk))
    return bundle


class _Writer:
    """Writes members into the ZIP and records each one's SHA-256."""

    def __init__(self, zf, date_time):
        self.zf, self.hashes, self.date_time = zf, {}, date_time  # one time for every member (as a bundle's)

    def _info(self, name, compress_type):
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = compress_type
        return info

    def write_bytes(self, name, data: bytes, *, listed=True):
        """A member written whole; `listed=False` for the manifest, its signature and key (not in the manifest)."""
        info = self._info(name, zipfile.ZIP_DEFLATED)
        info.external_attr = 0o600 << 16  # as writestr(name, …) sets it
        self.zf.writestr(info, data)
        if listed:
            self.hashes[name] = hashlib.sha256(data).hexdigest()

    def write_stream(self, name, handle, *, stored=False):
        digest = hashlib.sha256()
        info = self._info(name, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
        with self.zf.open(info, "w", force_zip64=True) as out:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        self.hashes[name] = digest.hexdigest()


def _json(data):
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


AUDIT_COLUMNS = ["seq", "timestamp", "actor", "action", "object_type", "object_id", "object", "old", "new",
                 "reason", "entry_hash"]


#: one encoder for the many small values a bundle writes (json.dumps with options builds a new encoder per call)
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_VALUE_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _json_rows(rows):
    """A JSON array with one element per line: as easy to read and to diff as an indented one, and written by
    the json module's C encoder (an indented dump is encoded in Python, several times slower)."""
    return ("[\n" + ",\n".join(_ROW_ENCODER.encode(row) for row in rows)
            + "\n]\n").encode("utf-8") if rows else b"[]\n"


#: an audit entry's columns as a bundle prints them (AUDIT_COLUMNS), read as plain rows, not model instances
_AUDIT_FIELDS = ("seq", "timestamp", "actor_name", "action", "object_type", "object_id", "object_repr",
                 "old_values", "new_values", "reason", "entry_hash", "record_id", "process_id")


def _attach_audit_rows(records):
    """Set on each record `bundle_audit`: its trail in seq order — the entries about the record, and those of
    its process that name no record — for a chunk of records in one query."""
    by_process = {}
    for record in records:
        record.bundle_audit = []
        if record.process_id:
            by_process.setdefault(record.process_id, []).append(record)
    by_pk = {record.pk: record for record in records}
    about = Q(record_id__in=list(by_pk))
    if by_process:
        about |= Q(process_id__in=list(by_process), record__isnull=True)
    for (seq, timestamp, actor, action, object_type, object_id, object_repr, old, new, reason, entry_hash,
         record_id, process_id) in AuditEntry.objects.filter(about).order_by("seq").values_list(*_AUDIT_FIELDS):
        row = {"seq": seq, "timestamp": timestamp.isoformat(), "actor": actor, "action": action,
               "object_type": object_type, "object_id": object_id, "object": object_repr,
               "old": old, "new": new, "reason": reason, "entry_hash": entry_hash}
        for record in [by_pk[record_id]] if record_id is not None else by_process[process_id]:
            record.bundle_audit.append(row)


def _write_record(w, record):

    base = f"records/{record.number}"
    tombstone = getattr(record, "tombstone", None)
    if tombstone is not None:
        w.write_bytes(f"{base}/tombstone.json", _json(jsonable({
            "number": tombstone.number, "record_type": tombstone.record_type, "destroyed_at": tombstone.destroyed_at,
            "approved_by": tombstone.approved_by.printed_name, "reason": tombstone.reason,
            "version_hashes": tombstone.version_hashes, "file_hashes": tombstone.file_hashes})))
    signatures, stored_files = [], []
    for version in record.bundle_versions:  # in version order (_records)
        version_hash = None
        if tombstone is None:
            data_member = f"{base}/v{version.version}.json"
            w.write_bytes(data_member, canonical_json(version.data))
            version_hash = w.hashes[data_member]  # = version.compute_hash(): the SHA-256 of its canonical JSON
            renditions = {}  # all kinds of every rendition: _records rendered any missing first rendition
            for file in version.bundle_files:
                renditions.setdefault(file.rendition, {})[file.kind] = file
            for rendition, files in sorted(renditions.items()):  # the first rendering, then any corrected one
                member = f"{base}/v{version.version}{files[BUNDLED_KIND].rendition_suffix}-pdfa.pdf"
                with files[BUNDLED_KIND].file.open("rb") as handle:
                    w.write_stream(member, handle, stored=True)
                for kind in KINDS:
                    stored = files[kind]
                    problems = []
                    if kind == BUNDLED_KIND and w.hashes[member] != stored.sha256:
                        problems.append("the stored file no longer matches the SHA-256 recorded when it was rendered")
                    elif kind != BUNDLED_KIND and not stored.file.storage.exists(stored.file.name):
                        problems.append("the stored file is missing")
                    if problems:
                        logger.error("evidence bundle: %s v%s %s r%s: %s", record.number, version.version, kind,
                                     rendition, problems)
                    entry = {"version": version.version, "kind": kind, "sha256": stored.sha256, "size": stored.size,
                             "member": member if kind == BUNDLED_KIND else None, "problems": problems}
                    if rendition > 1:  # a corrected rendering: which, when, by whom, why (the first's as before)
                        entry.update(rendition=rendition, rendered_at=stored.rendered_at.isoformat(),
                                     rendered_by=stored.rendered_by.printed_name if stored.rendered_by else "",
                                     reason=stored.reason)
                    stored_files.append(entry)
        for sig in version.bundle_signatures:
            signatures.append({"version": version.version, "content_hash": sig.content_hash,
                               "printed_name": sig.printed_name, "username": sig.signer_username,
                               "on_behalf_of_name": sig.on_behalf_of_name,
                               "role": sig.role, "meaning": sig.meaning, "reason": sig.reason,
                               "signed_at": sig.signed_at.isoformat(), "signature_hash": sig.signature_hash,
                               "problems": [] if tombstone else signature_problems(sig, version_hash=version_hash)})
    w.write_bytes(f"{base}/signatures.json", _json_rows(signatures))
    if tombstone is None:
        w.write_bytes(f"{base}/files.json", _json_rows(stored_files))
    rows = record.bundle_audit  # its trail, read by _records for its chunk of records (after any rendering)
    w.write_bytes(f"{base}/audit.json", _json_rows(rows))
    buffer = io.StringIO()
    writer = sheets.csv_writer(buffer, AUDIT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "old": _VALUE_ENCODER.encode(row["old"]) if row["old"] is not None else "",
                         "new": _VALUE_ENCODER.encode(row["new"]) if row["new"] is not None else ""})
    w.write_bytes(f"{base}/audit.csv", buffer.getvalue().encode("utf-8-sig"))
    return {"number": record.number, "type": record.record_type, "title": record.title,
            "form": f"{record.form_code} {record.form_revision}", "status": record.status,
            "customer": record.customer_name, "versions": record.current_version,
            "created_at": record.created_at.isoformat(), "signatures": len(signatures),
            "destroyed": tombstone is not None}


INDEX_COLUMNS = ["number", "type", "title", "form", "status", "customer", "versions", "signatures",
                 "created_at", "destroyed"]


def _index_html(bundle, rows):
    head = "".join(f"<th>{html.escape(c)}</th>" for c in INDEX_COLUMNS)
    body = "".join("<tr>" + "".join(
        f'<td><a href="records/{html.escape(r["number"])}/">{html.escape(r["number"])}</a></td>' if c == "number"
        else f"<td>{html.escape(str(r[c]))}</td>" for c in INDEX_COLUMNS) + "</tr>" for r in rows)
    return (f'<!doctype html><html lang="zh-Hans"><meta charset="utf-8"><title>Evidence bundle {bundle.pk}</title>'
            f"<h1>{html.escape(settings.QMS['COMPANY_NAME_ZH'])} — Evidence bundle {bundle.pk}</h1>"
            f"<table border=1><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></html>").encode("utf-8")


def _records(ids):
    """The bundle's records in number order (`ids` were stored in that order), CHUNK_RECORDS at
    a time, each with what the bundle prints of it: the tombstone, `bundle_versions` (in order), and on each
    version `bundle_signatures` (in signing order) and `bundle_files` (a version never rendered is rendered here,
    so that its rendering is in the trail), and `bundle_audit`. Five queries per chunk, grouped here rather than
    by prefetch_related (which clones a queryset for every record and every version) or a query per record's
    trail."""
    for begin in range(0, len(ids), CHUNK_RECORDS):
        chunk = ids[begin:begin + CHUNK_RECORDS]
        records = list(Record.objects.filter(pk__in=chunk).order_by("number")
                       .select_related("tombstone__approved_by"))
        by_record = {record.pk: record for record in records}
        versions = {}
        for record in records:
            record.bundle_versions = []
        for version in RecordVersion.objects.filter(record_id__in=chunk).order_by("record_id", "version"):
            version.record = by_record[version.record_id]
            version.bundle_signatures, version.bundle_files = [], []
            version.record.bundle_versions.append(version)
            versions[version.pk] = version
        for signature in Signature.objects.filter(record_version_id__in=versions).order_by("signed_at", "id"):
            signature.record_version = versions[signature.record_version_id]
            signature.record_version.bundle_signatures.append(signature)
        for file in RecordFile.objects.filter(record_version_id__in=versions).select_related("rendered_by"):
            file.record_version = versions[file.record_version_id]
            file.record_version.bundle_files.append(file)
        for version in versions.values():  # never rendered (e.g. the worker was down): rendered now, audited,
            kinds = {file.kind for file in version.bundle_files if file.rendition == 1}  # before the trails are read
            if getattr(version.record, "tombstone", None) is None and any(kind not in kinds for kind in KINDS):
                version.bundle_files = render_version(version) + [
                    file for file in version.bundle_files if file.rendition > 1]
        _attach_audit_rows(records)  # the chunk's trails held together: a few hundred rows a record
        yield from records


#: Processes that write a large bundle's records: the worker's own and forked helpers, each a contiguous range
#: of the records (in number order) into a ZIP of its own; the helpers' members are then copied, as written,
#: after the worker's. Writing a record (its data as canonical JSON, its trail, its PDFs hashed and copied) is
#: CPU work in Python, 6–8 ms a record, so two processes on two cores nearly halve a large bundle's time.
#: QMS["BUNDLE_PROCESSES"] sets the number (default: the machine's cores, at most MAX_PROCESSES); a bundle of fewer
#: than QMS["BUNDLE_PARALLEL_FROM"] records (2,000) is written by the worker alone. Where a forked process could not
#: see what the worker sees (an open transaction, an in-memory database) the ranges are written one after the
#: other, with the same files and the same merge.
MAX_PROCESSES = 4


def bundle_processes(count):
    """How many ranges a bundle of `count` records is written in (each of half BUNDLE_PARALLEL_FROM or more)."""
    parallel_from = max(2, settings.QMS.get("BUNDLE_PARALLEL_FROM", 2_000))
    if count < parallel_from:
        return 1
    wanted = settings.QMS.get("BUNDLE_PROCESSES") or min(os.cpu_count() or 1, MAX_PROCESSES)
    return max(1, min(int(wanted), count // (parallel_from // 2)))


def _can_fork(fork=None):
    """Fork only where the copy sees what this process sees — a database a new connection reaches, with what it
    holds committed (no open transaction, no in-memory database) — and is safe: this process's only thread (a
    Celery pool process; not a threaded web server running tasks eagerly, whose other threads may hold locks
    the copy would inherit held), unless the caller says other threads hold nothing the copy needs (`fork=True`:
    a test process beside its live server's thread, a benchmark). `fork=False`: never."""
    if fork is False or not hasattr(os, "fork") or connection.in_atomic_block or (
            connection.vendor == "sqlite" and connection.is_in_memory_db()):
        return False
    return fork is True or threading.active_count() == 1


def _write_part(ids, fileobj, date_time, progress=None):
    """Write the records `ids` as a ZIP from `fileobj`'s position: (its ZipInfos, their SHA-256s by name, the
    index rows)."""
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        w = _Writer(zf, date_time)
        rows = []
        for index, record in enumerate(_records(ids), start=1):
            rows.append(_write_record(w, record))
            if progress:
                progress(index)
    return zf.infolist(), w.hashes, rows


def _result_path(path):
    return path.with_name(path.name + ".json")


def _write_range(ids, path, date_time):
    """One range of a bundle as a ZIP of its own at `path`, its rows and hashes beside it."""
    with open(path, "wb") as handle:
        _, hashes, rows = _write_part(ids, handle, date_time)
    _result_path(path).write_text(json.dumps({"rows": rows, "hashes": hashes}))


#: blocked from before each fork until the copy has its own handlers (and in the worker, until it knows the pid)
_FORK_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _end_with_parent(parent):  # pragma: no cover (in a forked process)
    """Linux: be sent SIGTERM if the worker's process ends (killed, say), rather than write on alone; and end
    now if it already has."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the range is written to its end; the next build removes it
        pass
    if os.getppid() != parent:
        raise RuntimeError("the worker's process ended before this range began")


def _range_process(ids, path, date_time, parent):  # pragma: no cover (a forked process: the parent checks it)
    """In a forked process (SIGTERM and SIGINT blocked until its own handlers are set): write one range, then
    end with os._exit whatever happens, so that nothing of the worker's (its connections, its files, its
    atexit handlers, Celery's pool loop) runs a second time in the copy."""
    code = 1
    try:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the Celery pool process's handlers
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORK_SIGNALS)
            _end_with_parent(parent)
            _write_range(ids, path, date_time)
            code = 0
        except BaseException:
            logger.exception("evidence bundle: the process writing %s failed", path.name)
        try:
            connections.close_all()
        except BaseException:
            pass
    finally:
        os._exit(code)


def _fork_range(ids, path, date_time):
    """Start a forked process writing one range: its pid."""
    parent = os.getpid()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _FORK_SIGNALS)
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover
            try:
                _range_process(ids, path, date_time, parent)
            finally:
                os._exit(1)
        return pid
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _entries_end(handle, infos):
    """Where the members `infos` of the ZIP on `handle` end: after the last one's local header (fixed part,
    name, extra field) and data (no member has a data descriptor: every file written here is seekable)."""
    if not infos:
        return 0
    last = max(infos, key=lambda info: info.header_offset)
    handle.seek(last.header_offset)
    name_length, extra_length = struct.unpack("<HH", handle.read(zipfile.sizeFileHeader)[26:30])
    return last.header_offset + zipfile.sizeFileHeader + name_length + extra_length + last.compress_size


def _append_range(out, path):
    """Copy the members of the ZIP at `path` — local headers and data, not its central directory — to the end
    of `out`: their ZipInfos, moved to where they now stand. A member's header and data do not depend on where
    they stand; only the central directory, written last, says where each one is."""
    with zipfile.ZipFile(path) as part:
        infos = part.infolist()
    base = out.tell()
    with open(path, "rb") as handle:
        left = _entries_end(handle, infos)
        handle.seek(0)
        while left:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                raise OSError(f"{path.name} ends before its members do")
            out.write(chunk)
            left -= len(chunk)
    for info in infos:
        info.header_offset += base
    return infos


def _write_ranges(ranges, out, paths, date_time, progress, forked):
    """Write the first range on `out` and the others into `paths` — in forked processes if `forked` (_can_fork),
    else one after the other — then copy theirs after it: (ZipInfos, hashes, rows)."""
    children = {}  # path: pid
    try:
        if forked:
            connections.close_all()  # each process opens its own connection: none shares this one's socket
            for ids, path in zip(ranges[1:], paths):
                children[path] = _fork_range(ids, path, date_time)
        infos, hashes, rows = _write_part(ranges[0], out, date_time, progress)
        out.seek(_entries_end(out, infos))  # what follows its members (its central directory) is written over
        for ids, path in zip(ranges[1:], paths):
            if forked:
                _, status = os.waitpid(children.pop(path), 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise RuntimeError(f"the process writing {path.name} failed (see the worker's log)")
            else:
                _write_range(ids, path, date_time)
            written = json.loads(_result_path(path).read_text())
            rows += written["rows"]
            hashes.update(written["hashes"])
            infos += _append_range(out, path)
            path.unlink()
        return infos, hashes, rows
    finally:
        for pid in children.values():  # this process failed (or could not start them all): stop the others
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        for path in paths:
            path.unlink(missing_ok=True)
            _result_path(path).unlink(missing_ok=True)


def build_bundle(bundle_id, *, fork=None):
    """Build the ZIP of one bundle (idempotent: a finished bundle is left alone); `fork` as _can_fork takes it."""
    bundle = EvidenceBundle.objects.select_related("created_by").get(pk=bundle_id)
    if bundle.status == EvidenceBundle.Status.DONE:
        return bundle
    EvidenceBundle.objects.filter(pk=bundle.pk).update(status=EvidenceBundle.Status.BUILDING, percent=0)
    final = bundle_dir() / bundle.filename
    partial = final.with_suffix(".part")
    for stale in bundle_dir().glob(f"{glob.escape(partial.name)}*"):  # of a build whose worker was killed
        stale.unlink(missing_ok=True)
    ids = list(bundle.record_ids)
    count = bundle_processes(len(ids))
    size = -(-len(ids) // count)
    ranges = [ids[begin:begin + size] for begin in range(0, len(ids), size)] or [[]]
    paths = [partial.with_suffix(f".part{n}") for n in range(1, len(ranges))]
    date_time = timezone.localtime().timetuple()[:6]  # one time for every member, the bundle's
    forked = len(ranges) > 1 and _can_fork(fork)
    logger.info("evidence bundle %s: %d records in %d range(s)%s", bundle.pk, len(ids), len(ranges),
                ", the others by forked processes" if forked else "")
    shown = 0

    def progress(index):  # the first range's progress stands for all: the ranges go at the same pace
        nonlocal shown
        percent = min(95, index * 95 // len(ranges[0]))
        if percent != shown:  # at most 95 progress updates, whatever the size
            EvidenceBundle.objects.filter(pk=bundle.pk).update(percent=percent)
            shown = percent

    try:
        with open(partial, "w+b") as out:
            infos, hashes, rows = _write_ranges(ranges, out, paths, date_time, progress, forked)
            zf = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)  # its central directory lists them all
            zf.filelist.extend(infos)
            zf.NameToInfo.update((info.filename, info) for info in infos)
            w = _Writer(zf, date_time)
            w.hashes = hashes
            buffer = io.StringIO()
            writer = sheets.csv_writer(buffer, INDEX_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            w.write_bytes("index.csv", buffer.getvalue().encode("utf-8-sig"))
            w.write_bytes("index.html", _index_html(bundle, rows))
            public = signing.public_key_pem()
            fingerprint = hashlib.sha256(public).hexdigest()
            w.write_bytes("README.txt", README.format(
                id=bundle.pk, company=settings.QMS["COMPANY_NAME_ZH"], built=timezone.now().isoformat(),
                user=bundle.created_by.printed_name, count=len(rows), fingerprint=fingerprint).encode("utf-8"))
            sums = "".join(f"{digest}  {name}\n" for name, digest in sorted(w.hashes.items()))
            w.write_bytes("SHA256SUMS", sums.encode("utf-8"))
            manifest = _json({"bundle": bundle.pk, "organisation": settings.QMS["COMPANY_NAME_EN"],
                              "built_at": timezone.now().isoformat(), "built_for": bundle.created_by.get_username(),
                              "algorithm": "sha256", "signature": "ed25519 over the bytes of manifest.json",
                              "public_key_sha256": fingerprint, "records": [r["number"] for r in rows],
                              "files": dict(sorted(w.hashes.items()))})
            w.write_bytes("manifest.json", manifest, listed=False)
            w.write_bytes("manifest.sig", signing.sign(manifest), listed=False)
            w.write_bytes("signer.pub.pem", public, listed=False)
            zf.close()
            out.truncate()  # the first range's own central directory may have reached further
            # read back rather than hashed while written: a ZIP writer that cannot seek back puts members' sizes
            # after their data (data descriptors), which streaming readers (Java's ZipInputStream) refuse on
            # stored members
            out.seek(0)
            digest = hashlib.file_digest(out, "sha256")
        os.replace(partial, final)
        with transaction.atomic():
            EvidenceBundle.objects.filter(pk=bundle.pk).update(
                status=EvidenceBundle.Status.DONE, percent=100, file_path=str(final), sha256=digest.hexdigest(),
                size=final.stat().st_size, manifest_sha256=hashlib.sha256(manifest).hexdigest(),
                finished_at=timezone.now())
            bundle.refresh_from_db()
            audit.log("evidence.bundle_built", bundle, new={"records": len(rows), "files": len(w.hashes),
                                                            "sha256": bundle.sha256, "size": bundle.size,
                                                            "manifest_sha256": bundle.manifest_sha256})
        return bundle
    except Exception as error:
        logger.exception("evidence bundle %s failed", bundle.pk)
        partial.unlink(missing_ok=True)
        EvidenceBundle.objects.filter(pk=bundle.pk).update(status=EvidenceBundle.Status.FAILED, error=str(error)[:2000])
        raise


# --- verification --------------------------------------------------------------------------------


def verify_bundle_file(path):
    """([problem, …], manifest) for a bundle ZIP: every file against the manifest,
    files missing from or not listed in it, and the manifest's signature."""
    problems = []
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for required in ("manifest.json", "manifest.sig", "signer.pub.pem"):
            if required not in names:
                return [f"{required}: missing"], None
        manifest_bytes = zf.read("manifest.json")
        if not signing.verify(zf.read("signer.pub.pem"), zf.read("manifest.sig"), manifest_bytes):
            problems.append("manifest.json: the signature does not verify (manifest.sig)")
        try:
            manifest = json.loads(manifest_bytes)
            listed = manifest["files"]
        except (ValueError, KeyError, TypeError):
            return problems + ["manifest.json: not a valid manifest"], None
        for name, expected in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: missing")
                continue
            try:
                with zf.open(name) as handle:
                    digest = hashlib.file_digest(handle, "sha256")
            except zipfile.BadZipFile as error:  # the member's bytes were changed in the ZIP itself (its CRC)
                problems.append(f"{name}: damaged in the ZIP ({error})")
                continue
            if digest.hexdigest() != expected:
                problems.append(f"{name}: SHA-256 does not match the manifest")
        for name in sorted(names - set(listed) - {"manifest.json", "manifest.sig", "signer.pub.pem"}):
            problems.append(f"{name}: not listed in the manifest")
    return problems, manifest


@shared_task(name="evidence.tasks.build_evidence_bundle",  # its name before it moved here: queued messages keep working
             acks_late=True, ignore_result=True)
def build_evidence_bundle(bundle_id):
    """Celery: build a queued bundle (idempotent: a bundle already built or failed is left alone)."""
    build_bundle(bundle_id)
