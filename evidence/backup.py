"""Backup and restore (SIG-15, Annex 11 §7).

A backup is one .tar.gz holding:
  database.xml   every table (Django's XML serializer: it keeps timestamps to the
                 microsecond, which the hashes of audit entries and signatures cover;
                 the JSON serializer would round them to milliseconds)
  media/…        every stored file a row refers to (rendered PDFs, uploads)
  manifest.json  SHA-256 of each member, every record version's content hash, the
                 audit chain head and the row counts
It is taken inside one transaction (REPEATABLE READ on PostgreSQL, the write lock on
SQLite), so the dump and the file list are one consistent state.

`restore` loads a backup into an EMPTY, migrated database: it checks every member
against the manifest first, loads the rows (INSERT only — the append-only triggers
are not in the way), copies the files, then proves the restore: every record
version's hash recomputed equals the manifest's, and verify_all is clean."""
import hashlib
import json
import shutil
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.serializers import xml_serializer
from django.core.serializers.base import DeserializationError
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import signals
from django.utils import timezone

from accounts.models import User
from core.models import AuditEntry, AuditHead, Record, RecordVersion
from core.verification import verify_all

EXCLUDE = ["contenttypes", "auth.permission", "sessions", "admin.logentry"]
# Rows that `migrate` enters into a new database (procedures.documents.defaults, procedures.complaints.defaults, on
# post_migrate). The backup holds the rules as they were, under their own keys: restore
# deletes the defaults first, so the backup's rows replace them instead of colliding.
SEEDED_BY_MIGRATE = ["procedures.ApprovalRule", "complaints.DispositionRule"]


class BackupError(RuntimeError):
    pass


def _sha256_file(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def stored_file_names():
    """Every file name a FileField of any row refers to."""
    names = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                names.update(n for n in model._default_manager.exclude(**{field.name: ""})
                             .values_list(field.name, flat=True) if n)
    return sorted(names)


class _XMLSerializer(xml_serializer.Serializer):
    """Django's XML serializer, except that many-to-many values without natural keys
    are read as plain ids: the stock `.only("pk")` query makes viewflow's Task
    (Task.previous) recurse while it initialises the deferred instances."""

    def handle_m2m_field(self, obj, field):
        related = field.remote_field.model
        if not field.remote_field.through._meta.auto_created or (
                self.use_natural_foreign_keys and hasattr(related, "natural_key")):
            return super().handle_m2m_field(obj, field)
        self._start_relational_field(field)
        for pk in getattr(obj, field.name).values_list("pk", flat=True).order_by("pk"):
            self.xml.addQuickElement("object", attrs={"pk": str(pk)})
        self.xml.endElement("field")


def _dumped_models():
    excluded_apps = {label for label in EXCLUDE if "." not in label}
    excluded_models = {label for label in EXCLUDE if "." in label}
    app_list = [(config, None) for config in apps.get_app_configs()
                if config.models_module is not None and config.label not in excluded_apps]
    for model in serializers.sort_dependencies(app_list, allow_cycles=True):
        if model._meta.proxy or not model._meta.managed or model._meta.label_lower in excluded_models:
            continue
        yield model


def dump_database(path):
    """Every row of every table (dumpdata's order and exclusions), as XML."""
    def objects():
        for model in _dumped_models():
            yield from model._base_manager.order_by(model._meta.pk.name).iterator(chunk_size=2000)

    with open(path, "w", encoding="utf-8") as stream:
        _XMLSerializer().serialize(objects(), stream=stream, use_natural_foreign_keys=True)


def record_hashes():
    hashes = {}
    for number, version, digest in (RecordVersion.objects.order_by("record__number", "version")
                                    .values_list("record__number", "version", "content_hash").iterator()):
        hashes.setdefault(number, {})[str(version)] = digest
    return hashes


def applied_migrations():
    """{app label: [migration names]} applied to this database: the schema the rows belong to.
    A backup's rows load only into the same schema (model labels and tables move between
    releases, e.g. the one-app-per-procedure layout); restore checks it."""
    applied = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


SCHEMA_ADVICE = ("restore it with the release that made it (the same migrations), then upgrade that "
                 "installation with `manage.py migrate`, and take a new backup if you need one")


def make_backup(out_path):
    """Write the backup archive; returns its manifest."""
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "database.xml"
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost:  # one snapshot for the dump and the file list
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            dump_database(dump)
            names = stored_file_names()
            files = {"database.xml": _sha256_file(dump)}
            media_root = Path(settings.MEDIA_ROOT)
            missing = []
            with tarfile.open(out_path, "w:gz") as tar:
                tar.add(dump, arcname="database.xml")
                for name in names:
                    path = media_root / name
                    if not path.exists():
                        missing.append(name)
                        continue
                    files[f"media/{name}"] = _sha256_file(path)
                    tar.add(path, arcname=f"media/{name}")
                head = AuditHead.objects.filter(pk=1).first()
                manifest = {
                    "format": "qms-backup/1", "created_at": timezone.now().isoformat(),
                    "database_vendor": connection.vendor, "files": files, "missing_files": missing,
                    "record_hashes": record_hashes(),
                    "audit_head": {"seq": head.last_seq, "hash": head.last_hash} if head else None,
                    "migrations": applied_migrations(),
                    "counts": {"records": Record.objects.count(), "record versions": RecordVersion.objects.count(),
                               "audit entries": AuditEntry.objects.count()},
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
                manifest_path = Path(tmp) / "manifest.json"
                manifest_path.write_bytes(data)
                tar.add(manifest_path, arcname="manifest.json")
    return manifest


def database_is_empty():
    return not (Record.objects.exists() or AuditEntry.objects.exists() or User.objects.exists())


def _safe_members(tar):
    for member in tar.getmembers():
        if member.name.startswith("/") or ".." in Path(member.name).parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"unsafe member in archive: {member.name}")
    return tar.getmembers()


@contextmanager
def _model_signals_muted():
    """Loading rows is not a change: the receivers that audit saves (user.created,
    task.created …) or derive rows from them (a process's procedure revision) must
    not run, or the restored audit chain would grow and derived rows double."""
    muted = (signals.pre_save, signals.post_save, signals.m2m_changed, signals.pre_delete, signals.post_delete)
    saved = [(signal, signal.receivers[:]) for signal in muted]
    for signal, _ in saved:
        signal.receivers = []
        signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        for signal, receivers in saved:
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def restore_backup(in_path, *, stdout=None):
    """Restore into an empty database. Returns (manifest, problems)."""
    write = (lambda text: stdout.write(text)) if stdout else (lambda text: None)
    if not database_is_empty():
        raise BackupError("the database is not empty: restore only into a freshly migrated, empty database")
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(in_path, "r:gz") as tar:
            tar.extractall(tmp, members=_safe_members(tar), filter="data")
        root = Path(tmp)
        manifest = json.loads((root / "manifest.json").read_text("utf-8"))
        for name, expected in manifest["files"].items():
            path = root / name
            if not path.exists():
                raise BackupError(f"{name}: missing from the archive")
            if _sha256_file(path) != expected:
                raise BackupError(f"{name}: SHA-256 does not match the backup manifest")
        write(f"archive verified: {len(manifest['files'])} files match the manifest\n")
        if "migrations" in manifest and manifest["migrations"] != applied_migrations():
            raise BackupError("this backup was made with a different database schema (its migrations differ "
                              f"from this installation's): {SCHEMA_ADVICE}")
        media_root = Path(settings.MEDIA_ROOT)
        copied = []
        try:
            with transaction.atomic():
                with _model_signals_muted():
                    for label in SEEDED_BY_MIGRATE:
                        apps.get_model(label).objects.all().delete()
                    try:
                        call_command("loaddata", str(root / "database.xml"), verbosity=0)
                    except DeserializationError as error:  # an older archive, without its schema in the manifest
                        raise BackupError(f"the backup's rows do not fit this schema ({error}): {SCHEMA_ADVICE}") \
                            from error
                for name in manifest["files"]:
                    if not name.startswith("media/"):
                        continue
                    target = media_root / name[len("media/"):]
                    if target.exists():
                        if _sha256_file(target) != manifest["files"][name]:
                            raise BackupError(f"{target} already exists with different content")
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(root / name, target)
                    copied.append(target)
        except BaseException:
            for target in copied:
                target.unlink(missing_ok=True)
            raise
    write(f"loaded {manifest['counts']}\n")
    return manifest, verify_restore(manifest)


def verify_restore(manifest):
    """Problems (strings) between the restored database and the backup's manifest."""
    problems = []
    restored = record_hashes()
    for number, versions in manifest["record_hashes"].items():
        for version, expected in versions.items():
            got = restored.get(number, {}).get(version)
            if got != expected:
                problems.append(f"record version {number} v{version}: hash {got} differs from the backup's {expected}")
    for version in RecordVersion.objects.select_related("record").iterator():
        if not hasattr(version.record, "tombstone") and version.compute_hash() != manifest["record_hashes"].get(
                version.record.number, {}).get(str(version.version)):
            problems.append(f"record version {version.record.number} v{version.version}: data does not reproduce "
                            f"the backed-up hash")
    head = AuditHead.objects.filter(pk=1).first()
    if manifest.get("audit_head") and (head is None or head.last_hash != manifest["audit_head"]["hash"]):
        problems.append("audit chain head differs from the backup's")
    counts, found, _warnings = verify_all()
    problems += [str(p) for p in found]
    return problems
