"""管理评审输入 — the management-review input pack (ISO 9001 9.3.2, CA-7): the figures of a period
frozen when it is compiled, the Quality manager's and the General Manager's signatures, and the
review's decisions as actions with an owner and a due date."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from core.choices import BilingualChoices
from workflows.models import artifact_of


class PackStatus(BilingualChoices):
    AWAITING_QM = "awaiting_qm", "待品质部经理签署", "Awaiting the Quality manager's signature"
    AWAITING_GM = "awaiting_gm", "待总经理签署", "Awaiting the General Manager's signature"
    AWAITING_DECISIONS = "awaiting_decisions", "待记录评审决定", "Awaiting the review's decisions"
    ACTIONS_OPEN = "actions_open", "措施进行中", "Actions in progress"
    CLOSED = "closed", "已完成", "Completed"


class ReviewActionStatus(BilingualChoices):
    OPEN = "open", "进行中", "Open"
    DONE = "done", "已完成", "Done"


def is_overdue(status, due_date, today=None):
    """An action still open after its due date (dates or ISO strings, e.g. of a record version)."""
    today = today or timezone.localdate()
    return status == ReviewActionStatus.OPEN and str(due_date) < str(today)


class ManagementReview(models.Model):
    """One input pack: `figures` are computed from the database when it is compiled and never
    recomputed (the record versions hold the same JSON)."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="management_review")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    trigger = models.CharField(max_length=10, choices=[("scheduled", _("Scheduled")), ("on_demand", _("On demand"))])
    status = models.CharField(max_length=20, choices=PackStatus.choices, default=PackStatus.AWAITING_QM)
    figures = models.JSONField(default=dict)
    compiled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    compiled_at = models.DateTimeField()
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    qm_comment = models.TextField(_("Quality manager's comment"), blank=True)
    qm_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    qm_signed_at = models.DateTimeField(null=True, blank=True)
    gm_comment = models.TextField(_("General Manager's comment"), blank=True)
    gm_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    gm_signed_at = models.DateTimeField(null=True, blank=True)
    conclusions = models.TextField(_("conclusions of the review"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("management review input pack")

    def __str__(self):
        return f"{self.record.number} {self.period_start} – {self.period_end}"


class ReviewAction(models.Model):
    """A decision of the review as an action: an owner, a due date, done (with a note) or open."""

    review = models.ForeignKey(ManagementReview, on_delete=models.PROTECT, related_name="actions")
    position = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(_("action"), max_length=500)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_actions",
                              verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(max_length=8, choices=ReviewActionStatus.choices, default=ReviewActionStatus.OPEN)
    note = models.TextField(_("what was done"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "position", "id"]

    def __str__(self):
        return f"{self.review.record.number} #{self.position} {self.description[:60]}"

    @property
    def overdue(self):
        return is_overdue(self.status, self.due_date)


class ManagementReviewProcess(Process):
    """The process of one input pack (ManagementReview is its artifact)."""

    class Meta:
        proxy = True
        verbose_name = _("Management review")
        verbose_name_plural = _("Management reviews")

    @property
    def summary_text(self):
        review = review_of(self)
        if review is None:
            return ""
        return f"{review.record.number} · {review.period_start} – {review.period_end} · {review.get_status_display()}"


def review_of(process):
    return artifact_of(process, ManagementReview, select_related=("record", "compiled_by"))
