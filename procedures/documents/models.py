"""Document control (P4, ISO 9001 7.5): controlled documents, their revisions and
files, the approval matrix, distribution and read-and-understood acknowledgements.

Status changes happen only through the actions in actions.py, driven by
the document-change flow (workflows/document_control.py)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from viewflow.workflow.models import Process

from accounts.models import Department, Role
from core.choices import BilingualChoices
from forms.models import StoredUpload


class DocumentType(BilingualChoices):
    PROCEDURE = "procedure", "程序文件", "Procedure"
    WORK_INSTRUCTION = "work_instruction", "作业指导书", "Work instruction"
    FORM = "form", "表单", "Blank form"
    EXTERNAL = "external", "外来文件", "Document of external origin"




class RevisionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved, awaiting effective date")
    EFFECTIVE = "effective", _("Effective")
    SUPERSEDED = "superseded", _("Superseded")
    OBSOLETE = "obsolete", _("Obsolete")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = [RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW, RevisionStatus.APPROVED]
RETRIEVABLE_ONLY = [RevisionStatus.SUPERSEDED, RevisionStatus.OBSOLETE]


class ApproverGroup(models.TextChoices):
    ROLE = "role", _("One person holding the role (from the queue)")
    MEMBERS = "members", _("Every person holding the role in the department")
    DISTRIBUTION_MANAGERS = "distribution_managers", _("The managers of every department in the distribution")


class ApprovalRule(models.Model):
    """DOC-4: document type → reviewing departments and approving role; edited by the
    Quality manager, enforced by the document-change flow."""

    document_type = models.CharField(_("document type"), max_length=20, choices=DocumentType.choices, unique=True)
    reviewing_departments = models.JSONField(_("reviewing departments"), default=list)
    approver_department = models.CharField(_("approver's department"), max_length=20, choices=Department.choices)
    approver_role = models.CharField(_("approver's role"), max_length=10, choices=Role.choices, default=Role.MANAGER)
    # Who signs the approval, and how many of them must approve (workflows/quorum.py).
    approver_group = models.CharField(_("who approves"), max_length=24, choices=ApproverGroup.choices,
                                      default=ApproverGroup.ROLE)
    approvals_needed = models.PositiveSmallIntegerField(
        _("approvals needed"), null=True, blank=True,
        help_text=_("Empty: every approver in the group must approve."))
    rejection_ends = models.BooleanField(_("a rejection ends the approval"), default=True)

    class Meta:
        verbose_name = _("approval rule")
        ordering = ["document_type"]

    def __str__(self):
        return f"{self.get_document_type_display()}"

    @property
    def is_group(self):
        return self.approver_group != ApproverGroup.ROLE

    def quorum_summary(self):
        """'Every person holding the role in the department · 2 must approve · a rejection ends it'; '' for one approver."""
        if not self.is_group:
            return ""
        parts = [str(self.get_approver_group_display())]
        if self.approvals_needed:
            parts.append(_("%(k)s must approve") % {"k": self.approvals_needed})
        else:
            parts.append(str(_("all must approve")))
        if self.rejection_ends:
            parts.append(str(_("a rejection ends it")))
        return " · ".join(parts)


class Document(models.Model):
    number = models.CharField(_("document number"), max_length=32, unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    doc_type = models.CharField(_("type"), max_length=20, choices=DocumentType.choices, db_index=True)
    owner_department = models.CharField(_("owner department"), max_length=20, choices=Department.choices)
    language = models.CharField(_("language"), max_length=20, default="zh-Hans, en")
    medium = models.CharField(_("medium"), max_length=40, default="electronic (PDF)")
    review_interval_months = models.PositiveSmallIntegerField(_("periodic review every (months)"), default=12)
    retention_years = models.PositiveSmallIntegerField(_("retention (years)"), default=10)
    next_review_due = models.DateField(_("next periodic review"), null=True, blank=True, db_index=True)
    distribution = models.JSONField(_("distribution (departments)"), default=list, blank=True)
    external_issuer = models.CharField(_("issued by (external origin)"), max_length=200, blank=True)
    # What the document governs: a procedure governs a flow, a blank form governs a record type.
    governs_flow = models.CharField(_("governs workflow"), max_length=100, blank=True, db_index=True)
    governs_record_type = models.CharField(_("governs record type"), max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("controlled document")

    def __str__(self):
        return f"{self.number} {self.title_zh} {self.title_en}"

    @property
    def title(self):
        return f"{self.title_zh} {self.title_en}"

    def effective_revision(self):
        return self.revisions.filter(status=RevisionStatus.EFFECTIVE).first()


class Revision(models.Model):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="revisions")
    label = models.CharField(_("revision"), max_length=8)
    sequence = models.PositiveSmallIntegerField()
    status = models.CharField(_("status"), max_length=12, choices=RevisionStatus.choices, default=RevisionStatus.DRAFT,
                              db_index=True)
    withdrawal = models.BooleanField(_("withdraws the document"), default=False)
    change_reason = models.TextField(_("reason for the change"))
    change_summary = models.TextField(_("what changed"), blank=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(_("superseded / withdrawn at"), null=True, blank=True)
    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="document_revision")
    process = models.ForeignKey("viewflow.Process", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The record that asked for this change (e.g. a CAPA report's D7), linked both ways.
    raised_from = models.ForeignKey("core.Record", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="document_changes_raised")

    class Meta:
        ordering = ["document", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["document", "sequence"], name="unique_revision_sequence"),
            # one draft / review / approved-not-yet-effective revision per document at a time
            models.UniqueConstraint(fields=["document"], condition=Q(status__in=OPEN_STATUSES),
                                    name="one_open_revision_per_document"),
            models.UniqueConstraint(fields=["document"], condition=Q(status="effective"),
                                    name="one_effective_revision_per_document"),
        ]

    def __str__(self):
        return f"{self.document.number} {self.label}"

    @property
    def main_file(self):
        return self.files.filter(kind=RevisionFile.Kind.CONTROLLED).first()


class RevisionApproval(models.Model):
    """One approver's signed decision when a group approves (DOC-3 with a quorum rule)."""

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="approvals")
    round = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved = models.BooleanField()
    effective_date = models.DateField(null=True, blank=True)
    comment = models.TextField(blank=True)
    signed_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ["revision", "round", "signed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["revision", "round", "approver"],
                                               name="one_approval_per_approver_and_round")]


class RevisionFile(StoredUpload):
    class Kind(models.TextChoices):
        CONTROLLED = "controlled", _("Controlled PDF")
        SOURCE = "source", _("Source file")

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    file = models.FileField(upload_to="documents/%Y/")

    class Meta:
        ordering = ["kind", "id"]


class StampedCopyBase(models.Model):
    """The controlled-copy marks of a revision's PDF in one status (issue 11): the stamp
    at the top and bottom of every page and, unless in force, the diagonal watermark,
    laid over the stored original once, stored with its SHA-256. Each download adds only
    the line naming who downloaded it and when (procedures.documents.stamping). The file of a
    revision never changes and its status changes a handful of times, so there is one
    base per status and stamp design, never updated. Deleted only with its file (a
    draft's PDF replaced before review)."""

    revision_file = models.ForeignKey(RevisionFile, on_delete=models.CASCADE, related_name="stamped_bases")
    status = models.CharField(max_length=12, choices=RevisionStatus.choices)
    design = models.CharField(max_length=16)  # procedures.documents.stamping.DESIGN when it was built
    file = models.FileField(upload_to="documents/stamped/%Y/")
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    source_sha256 = models.CharField(max_length=64)  # the stored original it was built from
    pages = models.PositiveIntegerField()
    page_sizes = models.PositiveIntegerField()
    removed = models.JSONField(default=list, blank=True)  # active content kept out of the copy (forms.pdfsafety)
    built_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["revision_file", "status", "design"],
                                               name="one_stamped_base_per_file_status_design")]


class DepartmentReview(models.Model):
    """A reviewing department's verdict on a revision (one per round and department)."""

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="reviews")
    round = models.PositiveSmallIntegerField()
    department = models.CharField(max_length=20, choices=Department.choices)
    accepted = models.BooleanField()
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["round", "department"]
        constraints = [models.UniqueConstraint(fields=["revision", "round", "department"],
                                               name="one_document_review_per_round")]


class Acknowledgement(models.Model):
    """DOC-7: a person in the distribution has read and understood an effective revision."""

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="acknowledgements")
    due_date = models.DateField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    signature = models.OneToOneField("core.Signature", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["revision", "user__username"]
        constraints = [models.UniqueConstraint(fields=["revision", "user"], name="one_acknowledgement_per_user")]


class ProcessProcedure(models.Model):
    """The procedure revision a process ran under (procedures govern processes)."""

    process = models.OneToOneField("viewflow.Process", on_delete=models.PROTECT, related_name="procedure_revision")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="governed_processes")


class PeriodicReview(models.Model):
    """DOC-14: the periodic review of a document in force, opened ahead of its due date."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="periodic_reviews")
    due_date = models.DateField()
    opened_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=12, blank=True, choices=[("no_change", _("No change needed")),
                                                                   ("change", _("Change needed"))])
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]


class DocumentChangeProcess(Process):
    """P4 process: process.data names the document, revision or periodic review."""

    class Meta:
        proxy = True
        verbose_name = _("Document control")
        verbose_name_plural = _("Document control")

    @property
    def revision(self):
        """The revision the process works on, or None (a periodic review before its change)."""
        return revision_of(self)


# --- what a document-control process is about: process.data holds the ids ---------------------------------



def revision_of(process):
    revision_id = (process.data or {}).get("revision")
    if not revision_id:
        return None
    cached = getattr(process, "_revision", None)
    if cached is None or cached.pk != revision_id:
        cached = Revision.objects.select_related("document", "record", "author").get(pk=revision_id)
        process._revision = cached
    return cached


def document_of(process):
    revision = revision_of(process)
    if revision is not None:
        return revision.document
    document_id = (process.data or {}).get("document")
    return Document.objects.get(pk=document_id) if document_id else None


def periodic_review_of(process):
    review_id = (process.data or {}).get("periodic_review")
    return PeriodicReview.objects.select_related("document").get(pk=review_id) if review_id else None
