"""Controlled records, their immutable versions, electronic signatures, rendered
files, record numbering and the hash-chained audit trail.

Rows of RecordVersion, Signature, RecordFile and AuditEntry are append-only:
`save()` refuses an update, `delete()` refuses, and on PostgreSQL a trigger makes
the database itself refuse UPDATE and DELETE (migration 0002).
"""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .canonical import sha256_hex
from .choices import BilingualChoices
from .diffs import changed_after_signature


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are append-only")


# --- audit trail -----------------------------------------------------------------

GENESIS_HASH = "0" * 64


class AuditHead(models.Model):
    """The single row that serialises appends to the chain (locked FOR UPDATE)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)


class AuditEntry(AppendOnlyModel):
    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    timestamp = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    record = models.ForeignKey(
        "core.Record", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    process_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    # (key in the hashed content, attribute): what an entry's hash covers
    HASHED = (("seq", "seq"), ("timestamp", "timestamp"), ("actor", "actor_id"), ("actor_name", "actor_name"),
              ("on_behalf_of", "on_behalf_of_id"), ("action", "action"), ("object_type", "object_type"),
              ("object_id", "object_id"), ("record", "record_id"), ("process", "process_id"),
              ("old", "old_values"), ("new", "new_values"), ("reason", "reason"), ("prev_hash", "prev_hash"))
    HASHED_KEYS = tuple(key for key, _attr in HASHED)
    HASHED_COLUMNS = tuple(attr for _key, attr in HASHED)

    def hashed_content(self):
        return {key: getattr(self, attr) for key, attr in self.HASHED}

    def compute_hash(self):
        return sha256_hex(self.hashed_content())


# --- record numbering --------------------------------------------------------------


class NumberSequence(models.Model):
    """Gap-free counter per prefix and year (e.g. OR-2026-0001). Incremented in the
    same transaction as the record it numbers, so a rollback returns the number."""

    prefix = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="unique_sequence")]


# --- records ------------------------------------------------------------------------------


class Record(models.Model):
    """A controlled record (filled form). Its content lives in immutable versions."""

    number = models.CharField(_("record number"), max_length=32, unique=True)
    record_type = models.CharField(_("record type"), max_length=40, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    form_code = models.CharField(_("form number"), max_length=32)
    form_revision = models.CharField(_("form revision"), max_length=8)
    status = models.CharField(_("status"), max_length=32, db_index=True)
    current_version = models.PositiveIntegerField(_("version"), default=0)
    customer_name = models.CharField(_("customer"), max_length=200, blank=True, db_index=True)
    product_text = models.CharField(_("products"), max_length=500, blank=True)
    lot_text = models.CharField(_("lots"), max_length=300, blank=True, db_index=True,
                                help_text=_("Lot / batch numbers the record concerns, space-separated"))
    search_text = models.TextField(blank=True)
    process = models.ForeignKey(
        "viewflow.Process", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("record")
        verbose_name_plural = _("records")
        # the registry sorted by a column (core.search.SORTS), its ties by id: a page read from the index in order
        # (core migration 0010, built concurrently on PostgreSQL)
        indexes = [models.Index(fields=["customer_name", "id"], name="record_by_customer"),
                   models.Index(fields=["status", "id"], name="record_by_status"),
                   models.Index(fields=["record_type", "id"], name="record_by_type")]

    def __str__(self):
        return self.number

    def get_version(self, number=None):
        return self.versions.get(version=number or self.current_version)

    def changed_after_first_signature(self, signed_versions=None, versions=None):
        """SIG-16: whether a value that was in a signed version was later changed or removed (the screens
        flag it; the API reports it). Later versions that only add — a department's review, a signature
        block, a field filled in — do not count, nor does the process moving on (the record type's
        state_fields, e.g. its status): a normal multi-signature record is not "changed after signing".
        `signed_versions`: the numbers of the versions that carry a signature, when the caller has them
        loaded already (else one query); `versions`: the record's versions, likewise."""
        if signed_versions is None:
            signed_versions = Signature.objects.filter(record_version__record=self) \
                .values_list("record_version__version", flat=True)
        signed = sorted(set(signed_versions))
        if not signed or self.current_version <= signed[0]:
            return False
        if versions is None:
            versions = self.versions.filter(version__gte=signed[0]).only("version", "data")
        return changed_after_signature(versions, signed, self.record_type)


class RecordVersion(AppendOnlyModel):
    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    content_hash = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["record", "version"]
        constraints = [models.UniqueConstraint(fields=["record", "version"], name="unique_record_version")]

    def __str__(self):
        return f"{self.record.number} v{self.version}"

    def compute_hash(self):
        return sha256_hex(self.data)


class Meaning(BilingualChoices):
    AUTHORED = "authored", "编制", "Authored"
    REVIEWED = "reviewed", "评审", "Reviewed"
    APPROVED = "approved", "批准", "Approved"
    REJECTED = "rejected", "驳回", "Rejected"
    VERIFIED = "verified", "验证", "Verified"
    ACKNOWLEDGED = "acknowledged", "签收", "Acknowledged (read and understood)"




class Signature(AppendOnlyModel):
    """An electronic signature bound to the exact content hash of one record version."""

    record_version = models.ForeignKey(RecordVersion, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    signer_username = models.CharField(max_length=150)
    printed_name = models.CharField(max_length=150)
    # A substitute signing for an absent person (inbox.delegation): who, and their
    # printed name at the time of signing.
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    on_behalf_of_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=150)
    meaning = models.CharField(max_length=16, choices=Meaning.choices)
    reason = models.TextField(blank=True)
    signed_at = models.DateTimeField(default=timezone.now, editable=False)
    content_hash = models.CharField(max_length=64)
    signature_hash = models.CharField(max_length=64)
    task_id = models.BigIntegerField(null=True, blank=True)
    step = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["signed_at", "id"]

    def hashed_content(self):
        content = {
            "record": self.record_version.record.number,
            "version": self.record_version.version,
            "content_hash": self.content_hash,
            "signer": self.signer_id,
            "username": self.signer_username,
            "printed_name": self.printed_name,
            "role": self.role,
            "meaning": self.meaning,
            "reason": self.reason,
            "signed_at": self.signed_at,
            "task": self.task_id,
            "step": self.step,
        }
        # Only when present, so signatures made before delegation existed hash as they did.
        if self.on_behalf_of_id is not None or self.on_behalf_of_name:
            content["on_behalf_of"] = self.on_behalf_of_id
            content["on_behalf_of_name"] = self.on_behalf_of_name
        return content

    def compute_hash(self):
        return sha256_hex(self.hashed_content())


class RecordFile(AppendOnlyModel):
    """A rendered file of one record version, rendered once and never rewritten.

    The first rendering of a version (rendition 1) is made by the system when the version is saved. A later
    rendition is added beside it only to correct a rendering that a viewer cannot read (evidence.renditions):
    the earlier file stays as it was, with its SHA-256, and the new one says who added it and why."""

    class Kind(models.TextChoices):
        PDF = "pdf", _("PDF")
        ARCHIVE = "pdfa", _("PDF/A-3b archive copy")

    record_version = models.ForeignKey(RecordVersion, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    rendition = models.PositiveSmallIntegerField(default=1)
    file = models.FileField(upload_to="records/%Y/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    rendered_at = models.DateTimeField(default=timezone.now, editable=False)
    render_seconds = models.FloatField(default=0)
    # a later rendition: why it was added and who asked for it (blank for the first, which the system renders)
    reason = models.TextField(blank=True)
    rendered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["record_version_id", "rendition", "kind"]
        constraints = [models.UniqueConstraint(fields=["record_version", "kind", "rendition"],
                                               name="unique_file_per_version_rendition")]

    def __str__(self):
        return f"{self.record_version} {self.kind}" + (f" r{self.rendition}" if self.rendition > 1 else "")

    @staticmethod
    def newest(files):
        """{kind: the newest rendition of that kind} of one version's files."""
        newest = {}
        for file in sorted(files, key=lambda f: (f.rendition, f.kind)):
            newest[file.kind] = file
        return newest

    @property
    def rendition_suffix(self):
        """"" for the first rendition (every name as it always was), "-r2" for a later one."""
        return f"-r{self.rendition}" if self.rendition > 1 else ""

    @property
    def key(self):
        """"v1 pdf", and "v1 pdf r2" for a later rendition: how a tombstone and the integrity check name it."""
        return f"v{self.record_version.version} {self.kind}{self.rendition_suffix.replace('-', ' ')}"

    @property
    def download_name(self):
        """OR-2026-0001-v1.pdf, …-v1-pdfa.pdf; a later rendition …-v1-r2.pdf (the bundle's member names too)."""
        version = self.record_version
        suffix = "-pdfa" if self.kind == self.Kind.ARCHIVE else ""
        return f"{version.record.number}-v{version.version}{self.rendition_suffix}{suffix}.pdf"


# --- DOC-11: what remains of a destroyed record (evidence.retention destroys) ------------------------------


class Tombstone(models.Model):
    """What remains of a destroyed record (DOC-11): its number, type, the hash of
    every version, who approved the destruction (a signature), when and why."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="tombstone")
    number = models.CharField(max_length=32, unique=True)
    record_type = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    created_at_original = models.DateTimeField()
    last_content_hash = models.CharField(max_length=64)
    version_hashes = models.JSONField(default=dict)  # {"1": hash, ...}
    file_hashes = models.JSONField(default=dict)  # {"v1 pdf": sha256, ...}
    retention_years = models.PositiveSmallIntegerField()
    approval = models.ForeignKey("core.Signature", on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    destroyed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "evidence_tombstone"  # kept from before the move to this app
        ordering = ["-destroyed_at"]
        verbose_name = _("tombstone of a destroyed record")

    def __str__(self):
        return f"† {self.number}"


    # What a destroyed record's versions become: their data is blanked to this marker
    DATA_KEY = "destroyed"

    def version_ok(self, version):
        """A blanked version verifies when its data is the blank marker and its content hash is
        the one the tombstone kept."""
        return (version.data == {self.DATA_KEY: self.number}
                and self.version_hashes.get(str(version.version)) == version.content_hash)


# --- SIG-18: the e-signature accountability statement -----------------------------------------------

ACCOUNTABILITY_STATEMENT_VERSION = "1"
ACCOUNTABILITY_STATEMENT = _(
    "I understand that my electronic signature in this system is the legally binding "
    "equivalent of my handwritten signature, that I am accountable and responsible for "
    "actions initiated under it, and that I will not share my password with anyone."
)


class AccountabilityAcceptance(models.Model):
    """SIG-18: the stored acknowledgement of the e-signature accountability statement."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="accountability_acceptances")
    statement_version = models.CharField(max_length=10)
    statement_text = models.TextField()
    accepted_at = models.DateTimeField()

    class Meta:
        db_table = "accounts_accountabilityacceptance"  # kept from before the move to this app
        constraints = [
            models.UniqueConstraint(fields=["user", "statement_version"], name="unique_acceptance_per_version"),
        ]
