"""Retention and disposition of records (DOC-11, SIG-3).

Each record type keeps its records for the retention period of the blank-form
document that governs it (procedures.documents, through core.registry), else
settings.QMS_RETENTION_YEARS_DEFAULT (10), counted from the record's creation.
Records past it are listed in the disposition queue; nothing is destroyed by a job.

Destruction and the append-only tables
---------------------------------------
Record versions, signatures, stored files and audit entries are append-only (model
guards; on PostgreSQL a trigger refuses UPDATE/DELETE). Destroying a record must
still remove its *content*. `destroy_record()` therefore:

1. needs the Quality manager's signature: password re-entered (esign.verify_signer,
   outside the transaction so failures are counted), a reason, meaning "approved",
   applied to the record's last version — the approval is itself an append-only,
   hash-bound signature;
2. writes a Tombstone: number, type, title, the content hash of every version, the
   SHA-256 of every stored file, who approved, when, why;
3. blanks the data of the record's versions with a single privileged UPDATE — on
   PostgreSQL the append-only trigger of core_recordversion is disabled with
   ALTER TABLE … DISABLE TRIGGER (by the owner-rights function qms_blank_destroyed_versions,
   core migration 0006) *inside the same transaction* and enabled again
   before it commits (ALTER TABLE is transactional in PostgreSQL, so a failure rolls
   the trigger state back too). The content_hash column is kept: verification
   checks each blanked version against the tombstone instead of its data;
4. deletes the rendered PDFs from storage (their RecordFile rows, with the SHA-256,
   stay), and sets the record's status to "destroyed";
5. writes the audit entry "record.destroyed" in that transaction.

What stays: the record row (number, type, title), the version rows as hashes, the
signatures (their own hashes still verify), the audit trail (SIG-5: kept as long as
the record — i.e. for good, as the evidence of the disposition) and the tombstone.
The working tables of the procedures (forms/…) are not touched here."""
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Role, department_label, department_permission
from core import audit, esign, registry
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import Meaning, Record, RecordFile, RecordVersion, Tombstone


DESTROYED = "destroyed"
DESTROYED_DATA_KEY = Tombstone.DATA_KEY


def default_years():
    return int(getattr(settings, "QMS_RETENTION_YEARS_DEFAULT", 10))


def retention_years(record_type):
    """The retention period of the blank form that governs the type (document control tells,
    core.registry), else the default."""
    years = registry.retention_years(record_type)
    return years if years is not None else default_years()


def retention_table():
    """{record type code: years} for every known type (and any type found in records)."""
    codes = {t.code for t in registry.all_types()} | set(Record.objects.values_list("record_type", flat=True).distinct())
    return {code: retention_years(code) for code in sorted(codes)}


def retention_ends(record, years=None):
    return record.created_at + relativedelta(years=years if years is not None else retention_years(record.record_type))


def past_retention(now=None):
    """Records whose retention period has ended and that are not destroyed yet."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for code, years in retention_table().items():
        condition |= Q(record_type=code, created_at__lte=now - relativedelta(years=years))
    return Record.objects.filter(condition).exclude(status=DESTROYED).order_by("created_at", "pk")


def can_approve_disposition(user):
    return user.is_authenticated and user.has_perm(department_permission(Department.QUALITY, Role.MANAGER))


def destroy_record(record, *, actor, password, reason, username=None, now=None):
    """Destroy a record past its retention period (see the module docstring).

    Preconditions: `actor` is a Quality manager, `reason` is given, the record's
    retention period has ended and it is not destroyed yet; the password verifies
    (a wrong one is counted like any failed signature). Returns the Tombstone."""
    if not can_approve_disposition(actor):
        raise NotPermitted(_("Only the Quality manager may approve the destruction of records."))
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    if record.status == DESTROYED:
        raise WrongState(_("The record is already destroyed."), current_state=DESTROYED)
    years = retention_years(record.record_type)
    ends = retention_ends(record, years)
    if (now or timezone.now()) < ends:
        raise WrongState(_("The retention period of %(number)s runs until %(date)s.") % {
            "number": record.number, "date": timezone.localtime(ends).date().isoformat()},
            current_state=record.status)
    esign.verify_signer(actor, password, username=username, require_username=username is not None)
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        if record.status == DESTROYED:
            raise WrongState(_("The record is already destroyed."), current_state=DESTROYED)
        versions = list(record.versions.order_by("version"))
        last = versions[-1]
        approval = esign.apply_signature(
            last, signer=actor, meaning=Meaning.APPROVED, step="disposition",
            role=f"{department_label(Department.QUALITY)} {_('manager')}", reason=f"销毁 Disposition: {reason}")
        files = list(RecordFile.objects.filter(record_version__record=record).select_related("record_version"))
        tombstone = Tombstone.objects.create(
            record=record, number=record.number, record_type=record.record_type, title=record.title,
            created_at_original=record.created_at, last_content_hash=last.content_hash,
            version_hashes={str(v.version): v.content_hash for v in versions},
            file_hashes={f.key: f.sha256 for f in files},  # "v1 pdf", a later rendition "v1 pdf r2"
            retention_years=years, approval=approval, approved_by=actor, reason=reason.strip())
        _blank_versions(record)
        old_status = record.status
        record.status = DESTROYED
        record.search_text = ""
        record.save(update_fields=["status", "search_text"])
        audit.log("record.destroyed", record, actor=actor, record=record, reason=reason.strip(),
                  old={"status": old_status},
                  new={"status": DESTROYED, "tombstone": tombstone.pk, "signature": approval.signature_hash,
                       "version_hashes": tombstone.version_hashes, "file_hashes": tombstone.file_hashes,
                       "retention_years": years})
        names = [f.file.name for f in files]
        storage = files[0].file.storage if files else None
        transaction.on_commit(lambda: [storage.delete(n) for n in names if storage.exists(n)])
    return tombstone


def _blank_versions(record):
    """The one privileged write to record versions (see the module docstring). On PostgreSQL
    through qms_blank_destroyed_versions() (core migration 0006), which disables the trigger
    with its owner's rights: the application's role needs no UPDATE on the table nor its ownership."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred (foreign-key) checks are queued: run them now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SELECT qms_blank_destroyed_versions(%s)", [record.pk])
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            RecordVersion.objects.filter(record=record).update(data={DESTROYED_DATA_KEY: record.number})
