"""Actions on controlled records: numbering, creation, new versions, status.

Each runs inside the caller's transaction or opens its own, and writes its audit
entry in that same transaction."""
from django.db import IntegrityError, connection, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from . import audit, registry
from .canonical import jsonable, sha256_hex
from .models import Meaning, NumberSequence, Record, RecordVersion, Signature


def next_number(prefix, year=None):
    """Allocate the next gap-free number, e.g. OR-2026-0001. Safe under concurrency:
    the row update takes a row lock that is held until the caller's transaction ends,
    and a rollback gives the number back."""
    year = year or timezone.localdate().year
    with transaction.atomic(savepoint=False):
        last = _advance(prefix, year)
        if last is None:
            try:
                with transaction.atomic():
                    last = NumberSequence.objects.create(prefix=prefix, year=year, last=1).last
            except IntegrityError:  # created concurrently: take the normal path
                last = _advance(prefix, year)
                if last is None:
                    raise NumberSequence.DoesNotExist(f"no number sequence {prefix} {year}")
    return f"{prefix}-{year}-{last:04d}"


def _advance(prefix, year):
    """The sequence's next number, taken and read in one statement (UPDATE … RETURNING: PostgreSQL, SQLite ≥
    3.35, the two databases this project runs on), or None when the prefix has no sequence for `year` yet."""
    table, last, prefix_, year_ = map(connection.ops.quote_name, [NumberSequence._meta.db_table, "last", "prefix",
                                                                  "year"])
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {last} = {last} + 1 WHERE {prefix_} = %s AND {year_} = %s "
                       f"RETURNING {last}", [prefix, year])
        row = cursor.fetchone()
    return row[0] if row else None


@transaction.atomic(savepoint=False)  # an error rolls back the caller's whole transaction
def create_record(type_code, *, actor, status, data=None, title="", customer_name="", product_text="",
                  search_text="", process=None, reason="", lot_text=""):
    """A new controlled record (numbered, audited). With `data`, its first version; without, it has none yet
    (current_version 0): the caller writes version 1 with add_version() in the same transaction, once the
    working rows its content is made of exist (they point at the record)."""
    rtype = registry.get(type_code)
    form_code, form_revision = registry.form_in_force(rtype)
    record = Record.objects.create(
        number=next_number(rtype.prefix),
        record_type=rtype.code,
        title=title or rtype.title,
        form_code=form_code,
        form_revision=form_revision,
        status=status,
        customer_name=customer_name,
        product_text=product_text[:500],
        lot_text=lot_text[:300],
        search_text=search_text,
        process=process,
        created_by=actor,
    )
    audit.log("record.created", record, actor=actor, record=record,
              process_id=process.pk if process else None,
              new={"number": record.number, "type": rtype.code, "status": status,
                   "form": f"{form_code} {form_revision}"})
    if data is not None:
        add_version(record, actor=actor, data=data, reason=reason or CREATED)
    return record


def search_text_from(source):
    """The search text of a record made from `source` (a complaint's anomaly report, an order's change notice …):
    the registry finds it by whatever finds `source`, and by `source`'s number."""
    return f"{source.search_text} {source.number}"


CREATED = "created"  # the reason of a first version made with its record when the caller names none
registry.register_version_reasons({CREATED: pgettext_lazy("version reason", "created")})


@transaction.atomic(savepoint=False)  # an error rolls back the caller's whole transaction
def add_version(record, *, actor, data, reason, status=None):
    """Store `data` as the record's next immutable version (if it differs from the
    current one) and return the current version. The audit entry carries the changed
    fields' old and new values."""
    return add_versions([(record, data)], actor=actor, reason=reason, status=status)[0]


@transaction.atomic(savepoint=False)  # an error rolls back the caller's whole transaction
def add_versions(changes, *, actor, reason, status=None):
    """`add_version()` for several records changed by one step (e.g. a complaint's feedback form and its
    anomaly report): `changes` is a list of (record, data). Three statements whatever their number: the
    records locked, and their current versions' data read (in the order of their keys, as every locker of two
    records must); the new versions inserted; the records' current version (and status) updated. Each record
    is audited as `add_version()` audits it, in the order given. Returns the versions in that order."""
    changes = [(record, jsonable(data)) for record, data in changes]
    keys = {record.pk for record, _data in changes}
    if len(keys) < len(changes):
        raise ValueError("add_versions(): a record is given twice; give its data once")
    current_data = RecordVersion.objects.filter(record=OuterRef("pk"), version=OuterRef("current_version"))
    locked = {row.pk: row for row in Record.objects.select_for_update().annotate(
        current_data=Subquery(current_data.values("data")[:1], output_field=models.JSONField()),
    ).filter(pk__in=keys).order_by("pk")}
    missing = keys - set(locked)
    if missing:
        raise Record.DoesNotExist(f"add_versions(): no record with key {sorted(missing)}")
    made = {}  # record pk → its new version (not written yet)
    for given, data in changes:
        record = locked[given.pk]
        if record.current_data is None or record.current_data != data:
            made[record.pk] = RecordVersion(record=record, version=record.current_version + 1, data=data,
                                            content_hash=sha256_hex(data), reason=reason, created_by=actor)
    if len(made) > 1:
        RecordVersion.objects.bulk_create(made.values())  # sets the keys (PostgreSQL, SQLite >= 3.35: RETURNING)
    else:
        for version in made.values():
            version.save()
    versions, moved = [], []
    for given, data in changes:
        record = locked[given.pk]
        version = made.get(record.pk)
        if version is None:  # the same content: no version; the status alone may change
            if status and status != record.status:
                set_status(record, status, actor=actor, reason=reason)
            versions.append(record.versions.get(version=record.current_version))
        else:
            versions.append(version)
            _audit_version(record, version, actor=actor, reason=reason, status=status)
            moved.append(record)
        given.current_version, given.status = record.current_version, record.status  # keep the caller's copy in step
    if len(moved) > 1:
        Record.objects.bulk_update(moved, ["current_version", "status"])
    else:
        for record in moved:
            record.save(update_fields=["current_version", "status"])
    return versions


def _audit_version(record, version, *, actor, reason, status):
    """Audit `version` of `record` (locked, annotated with its former current data) and move the record (in
    memory) to it and to `status`."""
    before = record.current_data or {}
    old, new = audit.changed_values(_flatten(before), _flatten(version.data))
    audit.log("record.version_created", version, actor=actor, record=record,
              process_id=record.process_id, reason=reason,
              old=old if record.current_data is not None else None,
              new={"version": version.version, "content_hash": version.content_hash, "changes": new})
    record.current_version = version.version
    if status and status != record.status:
        audit.log("record.status_changed", record, actor=actor, record=record, process_id=record.process_id,
                  old={"status": record.status}, new={"status": status}, reason=reason)
        record.status = status


@transaction.atomic(savepoint=False)  # an error rolls back the caller's whole transaction
def set_status(record, status, *, actor, reason=""):
    old = record.status
    if old == status:
        return record
    record.status = status
    record.save(update_fields=["status"])
    audit.log("record.status_changed", record, actor=actor, record=record, process_id=record.process_id,
              old={"status": old}, new={"status": status}, reason=reason)
    return record


def is_amended(version):
    """SIG-16: this version changes content that an earlier version had approved
    (e.g. an order changed after approval). Versions written while the record's own
    procedure is still running (a report filled in after an approval step) are not
    amendments; once that process has finished, any new version is."""
    approved_before = Signature.objects.filter(
        record_version__record_id=version.record_id, record_version__version__lt=version.version,
        meaning=Meaning.APPROVED,
    ).exists()
    if not approved_before:
        return False
    process = version.record.process
    if process is None:
        return True
    if process.finished is None:
        return False
    return version.created_at > process.finished


def _flatten(data, prefix=""):
    """{"a": {"b": 1}, "l": [x]} → {"a.b": 1, "l[0]": x}: field-level old/new values."""
    flat = {}
    if isinstance(data, dict):
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            flat.update(_flatten(value, f"{prefix}[{index}]"))
    else:
        flat[prefix] = data
    return flat
