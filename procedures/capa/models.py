"""Working data of P3, corrective and preventive action (纠正预防措施, 8D). Changed only
through the actions in actions.py, which store a new version of the CAPA report
record with each change."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from core.choices import BilingualChoices
from forms.models import StoredUpload
from workflows.models import artifact_of


class CapaSource(BilingualChoices):
    COMPLAINT = "complaint", "客诉", "Customer complaint"
    RETURN = "return", "退货", "Customer return"
    INTERNAL_NC = "internal_nc", "内部不合格", "Internal nonconformity"
    AUDIT_FINDING = "audit_finding", "审核发现", "Audit finding"
    MANAGEMENT_REVIEW = "management_review", "管理评审", "Management review"
    MANUAL = "manual", "品质部提出", "Raised by Quality"
    CUSTOMER_REQUIREMENT = "customer_requirement", "顾客需求", "Customer requirement"
    SUPPLIER = "supplier", "供应商", "Supplier (incoming inspection)"
    CUSTOMER_SATISFACTION = "satisfaction", "顾客满意度", "Customer satisfaction"



class CapaStatus(BilingualChoices):
    DESCRIBE = "describe", "D0–D2 问题描述", "D0–D2: describe the problem"
    CONTAINMENT = "containment", "D3 临时遏制", "D3: containment"
    ROOT_CAUSE = "root_cause", "D4 根本原因", "D4: root cause"
    PLAN = "plan", "D5 永久措施", "D5: permanent actions"
    PLAN_APPROVAL = "plan_approval", "措施计划待批准", "Plan awaiting approval"
    IMPLEMENTATION = "implementation", "D6 措施实施中", "D6: actions in progress"
    VALIDATION = "validation", "D6 实施验证", "D6: validation"
    AWAITING_VERIFICATION = "awaiting_verification", "等待效果验证", "Waiting for the effectiveness check"
    VERIFICATION = "verification", "效果验证", "Effectiveness check"
    PREVENTION = "prevention", "D7 预防再发生", "D7: prevent recurrence"
    CLOSURE = "closure", "D8 结案", "D8: closure"
    CLOSED = "closed", "已结案", "Closed"



class Severity(models.TextChoices):
    A = "A", _("A — critical")
    B = "B", _("B — major")
    C = "C", _("C — minor")


class SixM(BilingualChoices):
    """The fishbone's categories (人机料法环测)."""

    MAN = "man", "人", "Man"
    MACHINE = "machine", "机", "Machine"
    MATERIAL = "material", "料", "Material"
    METHOD = "method", "法", "Method"
    ENVIRONMENT = "environment", "环", "Environment"
    MEASUREMENT = "measurement", "测", "Measurement"



class CapaCase(models.Model):
    """One corrective / preventive action (the 8D report's working data). `round`
    counts the analysis rounds: a "not effective" check starts the next one, keeping
    the earlier rounds' 5-Why, fishbone, actions and checks as history."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="capa_case")
    status = models.CharField(max_length=24, choices=CapaStatus.choices, default=CapaStatus.DESCRIBE)
    round = models.PositiveSmallIntegerField(default=1)
    source = models.CharField(_("source"), max_length=20, choices=CapaSource.choices)
    source_reference = models.CharField(_("source reference"), max_length=100, blank=True)
    complaint_case = models.ForeignKey("complaints.ComplaintCase", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="capas")
    title = models.CharField(_("problem title"), max_length=200)
    customer_name = models.CharField(_("customer"), max_length=200, blank=True)
    product_text = models.CharField(_("product / lot"), max_length=300, blank=True)
    quantity_defective = models.DecimalField(_("quantity defective"), max_digits=12, decimal_places=3, null=True,
                                             blank=True)
    severity = models.CharField(_("severity"), max_length=1, choices=Severity.choices, default=Severity.B)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    # D0 need and emergency response
    emergency_response = models.TextField(_("D0 emergency response"), blank=True)
    # D1 team
    champion = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("champion"))
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("team leader"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="capa_teams",
                                     verbose_name=_("team members"), db_table="forms_capacase_members")
    # D2 problem description: 5W2H and is / is-not
    description = models.JSONField(default=dict, blank=True)  # what, where, when, who, why, how, how_many
    is_is_not = models.JSONField(default=dict, blank=True)  # is, is_not
    # D3 containment
    containment = models.TextField(_("D3 containment actions"), blank=True)
    containment_verification = models.TextField(_("D3 containment verified by / result"), blank=True)
    containment_removed = models.BooleanField(default=False)
    # D4 escape point and the round's summary (the 5-Why and the fishbone are their own rows)
    escape_point = models.TextField(_("escape point"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    similar_elsewhere = models.TextField(_("similar nonconformities elsewhere"), blank=True)
    # root causes and escape points of earlier, not effective rounds
    analysis_history = models.JSONField(default=dict, blank=True)
    # D6
    validation = models.TextField(_("D6 validation"), blank=True)
    # closure (D8)
    risks_updated = models.BooleanField(null=True, blank=True)
    risks_note = models.TextField(blank=True)
    qms_change_needed = models.BooleanField(null=True, blank=True)
    closing_summary = models.TextField(blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "forms_capacase"  # kept from before the move to this app
        ordering = ["-id"]
        verbose_name = _("corrective / preventive action")

    def __str__(self):
        return f"{self.record.number} {self.title}"

    @property
    def team(self):
        return [u for u in (self.champion, self.leader) if u is not None] + list(self.members.all())


class CapaSection(models.Model):
    """8D-2: who completed which D-step of which round, and when (with what it said)."""

    case = models.ForeignKey(CapaCase, on_delete=models.CASCADE, related_name="sections")
    code = models.CharField(max_length=4)  # D0 … D8
    round = models.PositiveSmallIntegerField(default=1)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(default=timezone.now)
    summary = models.TextField(blank=True)

    class Meta:
        db_table = "forms_capasection"  # kept from before the move to this app
        ordering = ["round", "code", "id"]


class WhyStep(models.Model):
    """8D-3: one why / answer pair of the ordered 5-Why chain of a round."""

    case = models.ForeignKey(CapaCase, on_delete=models.CASCADE, related_name="whys")
    round = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField()
    question = models.CharField(max_length=500)
    answer = models.CharField(max_length=500)

    class Meta:
        db_table = "forms_whystep"  # kept from before the move to this app
        ordering = ["round", "position"]


class FishboneCause(models.Model):
    """8D-3: one cause on the 6M fishbone (人机料法环测) of a round."""

    case = models.ForeignKey(CapaCase, on_delete=models.CASCADE, related_name="causes")
    round = models.PositiveSmallIntegerField(default=1)
    category = models.CharField(max_length=12, choices=SixM.choices)
    cause = models.CharField(max_length=300)
    is_root = models.BooleanField(default=False)

    class Meta:
        db_table = "forms_fishbonecause"  # kept from before the move to this app
        ordering = ["round", "category", "id"]


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


def is_overdue(status, due_date, today=None):
    """CA-5, the one overdue rule: an action still open after its current due date. Used by the
    model, the lists, the API, the reminders and the printed report (as of the version's date);
    `due_date` and `today` may be dates or ISO strings (a record version's data)."""
    today = today or timezone.localdate()
    return status == ActionStatus.OPEN and str(due_date) < str(today)


class CapaActionQuerySet(models.QuerySet):
    def overdue(self, today=None):
        """is_overdue() in SQL."""
        return self.filter(status=ActionStatus.OPEN, due_date__lt=today or timezone.localdate())


class CapaAction(models.Model):
    """CA-5: a permanent action (D5) with an owner and a due date; the due date moves
    only through an approved extension request (DueDateChange)."""

    case = models.ForeignKey(CapaCase, on_delete=models.CASCADE, related_name="actions")
    round = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(_("action"), max_length=500)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="capa_actions",
                              verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    original_due_date = models.DateField()
    status = models.CharField(max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    evidence = models.TextField(_("evidence"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # the due date an overdue reminder was sent for (one reminder per due date)
    reminded_for = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "forms_capaaction"  # kept from before the move to this app
        ordering = ["round", "position", "id"]

    def __str__(self):
        return f"{self.case.record.number} #{self.position} {self.description[:60]}"

    objects = CapaActionQuerySet.as_manager()

    @property
    def overdue(self):
        return is_overdue(self.status, self.due_date)


class ActionAttachment(StoredUpload):
    """Evidence file of an action; its SHA-256 goes into the record version."""

    action = models.ForeignKey(CapaAction, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="capa/%Y/%m/")

    class Meta:
        db_table = "forms_actionattachment"  # kept from before the move to this app
        ordering = ["id"]


class ExtensionStatus(BilingualChoices):
    PENDING = "pending", "待批准", "Pending"
    APPROVED = "approved", "已批准", "Approved"
    REJECTED = "rejected", "已驳回", "Rejected"


class DueDateChange(models.Model):
    """CA-5: an extension request of an action's due date and the Quality manager's
    decision; the approved ones are the action's due-date history."""

    action = models.ForeignKey(CapaAction, on_delete=models.CASCADE, related_name="extensions")
    old_due_date = models.DateField()
    new_due_date = models.DateField()
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        db_table = "forms_duedatechange"  # kept from before the move to this app
        ordering = ["id"]


class EffectivenessCheck(models.Model):
    """CA-3: the effectiveness review of a round: planned date, result, date, reviewer."""

    case = models.ForeignKey(CapaCase, on_delete=models.CASCADE, related_name="checks")
    round = models.PositiveSmallIntegerField(default=1)
    verification_date = models.DateField()
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    effective = models.BooleanField(null=True, blank=True)
    result = models.TextField(blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "forms_effectivenesscheck"  # kept from before the move to this app
        ordering = ["round", "id"]


class PreventionKind(BilingualChoices):
    DOCUMENT = "document", "文件/程序更改", "Document / procedure change"
    SIMILAR_PRODUCT = "similar_product", "类似产品/过程", "Similar products / processes"
    OTHER = "other", "其他系统性更改", "Other systemic change"


class PreventionItem(models.Model):
    """D7: what changes so the problem does not recur elsewhere; a document item may
    raise a document change request (P4), linked both ways."""

    case = models.ForeignKey(CapaCase, on_delete=models.CASCADE, related_name="prevention_items")
    kind = models.CharField(max_length=16, choices=PreventionKind.choices)
    description = models.CharField(max_length=500)
    document = models.ForeignKey("procedures.Document", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    change_revision = models.ForeignKey("procedures.Revision", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "forms_preventionitem"  # kept from before the move to this app
        ordering = ["id"]


class CapaProcess(Process):
    """P3 process: the corrective action (CapaCase) is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Corrective / preventive action")
        verbose_name_plural = _("Corrective and preventive actions")

    @property
    def capa_case(self):
        return capa_case_of(self)

    @property
    def summary_text(self):
        """One line for the process lists: the report, its state and overdue actions."""
        case = self.capa_case
        if case is None:
            return ""
        overdue = sum(1 for a in case.actions.all() if a.overdue)
        late = f" · {overdue} overdue" if overdue else ""
        return f"{case.record.number} · {case.get_status_display()}{late} · {case.title}"


def capa_case_of(process):
    return artifact_of(process, CapaCase, select_related=("record", "leader", "champion", "complaint_case__record"))
