"""P5 customer requirement management (客户需求管理): the working data of the customer
requirement review form (顾客需求评审表), its department reviews, links between
requirements, and the priority matrix. Every change goes through
procedures.requirements.actions, which also stores a new immutable record version."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from accounts.models import Department
from core.choices import BilingualChoices
from forms.models import Customer, Product, StoredUpload
from workflows.models import artifact_of


class RequirementChannel(BilingualChoices):
    """How the requirement reached the company (制度 二; 模板 三)."""
    VISIT = "visit", "客户拜访", "Customer visit"
    PHONE = "phone", "电话", "Phone"
    EMAIL = "email", "电子邮件", "E-mail"
    EXHIBITION = "exhibition", "展会", "Exhibition"
    SURVEY = "survey", "调查问卷", "Survey"
    COMPLAINT = "complaint", "客户投诉", "Complaint"
    AFTER_SALES = "after_sales", "售后服务", "After-sales service"


class RequirementType(BilingualChoices):
    EXPLICIT = "explicit", "明示要求", "Explicit"
    IMPLIED = "implied", "隐含要求", "Implied"
    STATUTORY = "statutory", "法律法规要求", "Statutory / regulatory"
    CUSTOMER_SPECIFIC = "customer_specific", "顾客特殊要求", "Customer-specific"
    COMPANY = "company", "公司自身要求", "Company's own"


class PriorityClass(BilingualChoices):
    A = "A", "A 级（立即处理）", "A (act now)"
    B = "B", "B 级（优先）", "B (high)"
    C = "C", "C 级（计划）", "C (planned)"
    D = "D", "D 级（观察）", "D (watch)"


class KanoCategory(BilingualChoices):
    """KANO-2: the categories of an answer pair (and of a feature: the most frequent one)."""
    ATTRACTIVE = "A", "魅力型", "Attractive"
    ONE_DIMENSIONAL = "O", "期望型", "One-dimensional"
    MUST_BE = "M", "必备型", "Must-be"
    INDIFFERENT = "I", "无差异型", "Indifferent"
    REVERSE = "R", "反向型", "Reverse"
    QUESTIONABLE = "Q", "可疑结果", "Questionable"


class RequirementStatus(BilingualChoices):
    REGISTERED = "registered", "已登记", "Registered"
    IN_REVIEW = "in_review", "评审中", "In review"
    AWAITING_APPROVAL = "awaiting_approval", "待批准", "Awaiting approval"
    APPROVED = "approved", "已批准", "Approved"
    IN_IMPLEMENTATION = "in_implementation", "实施中", "In implementation"
    COMPLETED = "completed", "已完成", "Completed"
    REJECTED = "rejected", "已驳回", "Rejected"
    WITHDRAWN = "withdrawn", "已撤回", "Withdrawn"
    DUPLICATE = "duplicate", "重复（已关联）", "Duplicate (linked)"


OPEN_STATUSES = (RequirementStatus.APPROVED, RequirementStatus.IN_IMPLEMENTATION)
CLOSED_STATUSES = (RequirementStatus.COMPLETED, RequirementStatus.REJECTED, RequirementStatus.WITHDRAWN,
                   RequirementStatus.DUPLICATE)


class FeasibilityVerdict(BilingualChoices):
    FEASIBLE = "feasible", "可满足", "Can be met"
    WITH_CONDITIONS = "conditions", "有条件满足", "Can be met with conditions"
    NOT_FEASIBLE = "not_feasible", "不能满足", "Cannot be met"


class Fulfilment(BilingualChoices):
    MET = "met", "已满足", "Met"
    PARTLY_MET = "partly_met", "部分满足", "Partly met"
    NOT_MET = "not_met", "未满足", "Not met"


class AnswerChannel(BilingualChoices):
    """How the answer reached the customer (需求反馈, 制度 六; 模板 八)."""
    LETTER = "letter", "书面函件", "Letter"
    EMAIL = "email", "电子邮件", "E-mail"
    PHONE = "phone", "电话", "Phone"
    VISIT = "visit", "拜访", "Visit"
    UPDATE_NOTICE = "update_notice", "产品更新通知", "Product update notice"
    SURVEY = "survey", "满意度调查", "Satisfaction survey"


class LinkKind(BilingualChoices):
    DUPLICATE_OF = "duplicate_of", "重复于", "Duplicate of"
    CONFLICTS_WITH = "conflicts_with", "冲突于", "Conflicts with"
    DEPENDS_ON = "depends_on", "依赖于", "Depends on"


#: the departments that may be asked to review a requirement (模板 五)
REVIEWING_DEPARTMENTS = [Department.QUALITY, Department.PRODUCTION, Department.ENGINEERING, Department.MATERIALS,
                         Department.FINANCE]

SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class PriorityMatrix(models.Model):
    """PM-1: the requirement priority matrix (需求矩阵): the class of a requirement follows
    from importance × urgency (1…25) and these thresholds. One row; changed only through
    actions.set_priority_matrix (audited)."""

    a_min = models.PositiveSmallIntegerField(_("class A from score"), default=15)
    b_min = models.PositiveSmallIntegerField(_("class B from score"), default=9)
    c_min = models.PositiveSmallIntegerField(_("class C from score"), default=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("requirement priority matrix")

    @classmethod
    def current(cls):
        return cls.objects.get_or_create(pk=1)[0]

    def as_data(self):
        return {"a_min": self.a_min, "b_min": self.b_min, "c_min": self.c_min}


class CustomerRequirement(models.Model):
    """顾客需求评审表 — customer requirement review form (P5)."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="customer_requirement")
    # --- collect (需求收集) ---
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name=_("customer"))
    customer_name = models.CharField(_("customer or potential customer"), max_length=200)
    potential_customer = models.BooleanField(_("potential customer"), default=False)
    channel = models.CharField(_("channel"), max_length=20, choices=RequirementChannel.choices)
    requirement_type = models.CharField(_("requirement type"), max_length=20, choices=RequirementType.choices)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("product"))
    product_text = models.CharField(_("product / service"), max_length=200, blank=True)
    received_on = models.DateField(_("received on"))
    customer_words = models.TextField(_("the customer's words"))
    meaning = models.TextField(_("what it means for us"), blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates", verbose_name=_("duplicate of"))
    # --- analyse (需求分析) ---
    importance = models.PositiveSmallIntegerField(_("importance"), null=True, blank=True, validators=SCORE)
    urgency = models.PositiveSmallIntegerField(_("urgency"), null=True, blank=True, validators=SCORE)
    priority = models.CharField(_("priority class"), max_length=1, blank=True, choices=PriorityClass.choices)
    kano_category = models.CharField(_("KANO category"), max_length=1, blank=True, choices=KanoCategory.choices)
    feasibility = models.TextField(_("feasibility (technical, cost, competition)"), blank=True)
    changes_product_or_process = models.BooleanField(_("changes a product or process"), default=False)
    review_departments = models.JSONField(default=list)
    # --- approve / track / evaluate ---
    status = models.CharField(_("status"), max_length=20, choices=RequirementStatus.choices,
                              default=RequirementStatus.REGISTERED)
    decision = models.CharField(max_length=10, blank=True)
    decision_reason = models.TextField(_("approval conclusion"), blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    customer_acceptance = models.TextField(_("customer's acceptance"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    progress = models.TextField(_("progress"), blank=True)
    fulfilment = models.CharField(_("was it met?"), max_length=12, blank=True, choices=Fulfilment.choices)
    evidence = models.TextField(_("evidence"), blank=True)
    answer_date = models.DateField(_("answer date"), null=True, blank=True)
    answer_channel = models.CharField(_("answer channel"), max_length=20, blank=True, choices=AnswerChannel.choices)
    answer_content = models.TextField(_("answer to the customer"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer requirement")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(importance__isnull=True) | models.Q(importance__range=(1, 5)),
                                   name="requirement_importance_1_5"),
            models.CheckConstraint(condition=models.Q(urgency__isnull=True) | models.Q(urgency__range=(1, 5)),
                                   name="requirement_urgency_1_5"),
        ]

    def __str__(self):
        return f"{self.record.number} · {self.customer_name}"

    @property
    def overdue(self):
        return is_overdue(self.status, self.due_date)


def is_overdue(status, due_date, today=None):
    """An approved requirement not completed by its due date."""
    return bool(due_date) and status in OPEN_STATUSES and due_date < (today or timezone.localdate())


class RequirementAttachment(StoredUpload):
    """A file registered with a requirement (the customer's letter, a drawing, a photo): its SHA-256
    goes into the record version, so the signatures cover the file (CR-1: 附件)."""

    requirement = models.ForeignKey(CustomerRequirement, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="requirements/%Y/%m/")

    class Meta:
        ordering = ["id"]


class RequirementLink(models.Model):
    """A duplicate, a conflict or a dependency between two requirements (CR-1, CR-2)."""

    source = models.ForeignKey(CustomerRequirement, on_delete=models.PROTECT, related_name="links")
    target = models.ForeignKey(CustomerRequirement, on_delete=models.PROTECT, related_name="linked_from")
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["source", "target", "kind"], name="unique_requirement_link"),
                       models.CheckConstraint(condition=~models.Q(source=models.F("target")),
                                              name="requirement_link_not_to_itself")]


class DepartmentVerdict(models.Model):
    """A department's signed verdict (模板 五: 相关部门的签字): what a requirement's review and a
    change's review share."""

    department = models.CharField(max_length=20, choices=Department.choices)
    verdict = models.CharField(_("verdict"), max_length=12, choices=FeasibilityVerdict.choices)
    comment = models.TextField(_("comment"), blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
        ordering = ["department"]


class RequirementReview(DepartmentVerdict):
    """One department's signed verdict on a requirement."""

    requirement = models.ForeignKey(CustomerRequirement, on_delete=models.CASCADE, related_name="reviews")

    class Meta(DepartmentVerdict.Meta):
        constraints = [models.UniqueConstraint(fields=["requirement", "department"],
                                               name="one_requirement_review_per_department")]


class RequirementProcess(Process):
    """P5 process: the CustomerRequirement is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Customer requirement")
        verbose_name_plural = _("Customer requirements")

    @property
    def requirement(self):
        return requirement_of(self)


def requirement_of(process):
    """The CustomerRequirement a P5 process works on (cached on the process), or None."""
    return artifact_of(process, CustomerRequirement, select_related=("record", "customer", "product", "owner"))


# --- KANO study (KANO-1…3) -----------------------------------------------------------------------------


class KanoAnswer(BilingualChoices):
    """The five answers of a functional ("if it has …?") or dysfunctional ("if it lacks …?")
    question; the values are analysis.ANSWERS."""
    LIKE = "like", "我喜欢", "I like it"
    MUST_BE = "must_be", "理所当然", "I expect it"
    NEUTRAL = "neutral", "无所谓", "I am neutral"
    LIVE_WITH = "live_with", "能忍受", "I can live with it"
    DISLIKE = "dislike", "我不喜欢", "I dislike it"


class KanoStudyStatus(BilingualChoices):
    DRAFT = "draft", "草稿", "Draft"
    COLLECTING = "collecting", "收集答卷中", "Collecting answers"
    CLOSED = "closed", "已完成", "Closed"


class ResponseSource(BilingualChoices):
    ENTERED = "entered", "市场部录入", "Entered by Market"
    IMPORTED = "imported", "文件导入", "Imported from a file"
    LINK = "link", "客户在线填写", "Answered by the customer online"


class KanoStudy(models.Model):
    """A KANO study (KANO 调查): features, each with its paired questions, the respondents'
    answers and the result per feature. A controlled record; closing it signs the result and
    sets the KANO category of the requirements its features cover."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="kano_study")
    title = models.CharField(_("title"), max_length=200)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("product"))
    product_text = models.CharField(_("product / service"), max_length=200, blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=KanoStudyStatus.choices,
                              default=KanoStudyStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("KANO study")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.record.number} · {self.title}"


class KanoFeature(models.Model):
    """One feature of a study with its paired questions (KANO-1); `requirement` is the
    customer requirement whose KANO category the result sets."""

    study = models.ForeignKey(KanoStudy, on_delete=models.PROTECT, related_name="features")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("feature"), max_length=200)
    functional_question = models.CharField(_("functional question (if present)"), max_length=300)
    dysfunctional_question = models.CharField(_("dysfunctional question (if absent)"), max_length=300)
    requirement = models.ForeignKey(CustomerRequirement, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="kano_features", verbose_name=_("customer requirement"))
    category = models.CharField(_("KANO category"), max_length=1, blank=True, choices=KanoCategory.choices)

    class Meta:
        ordering = ["study", "position"]
        constraints = [models.UniqueConstraint(fields=["study", "position"], name="kano_feature_position"),
                       models.UniqueConstraint(fields=["study", "name"], name="kano_feature_name")]

    def __str__(self):
        return self.name


class KanoRespondent(models.Model):
    """One respondent's questionnaire: who answered, how it arrived, who entered it."""

    study = models.ForeignKey(KanoStudy, on_delete=models.PROTECT, related_name="respondents")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name=_("customer"))
    name = models.CharField(_("respondent"), max_length=200)
    source = models.CharField(_("source"), max_length=10, choices=ResponseSource.choices)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    link = models.OneToOneField("forms.OneTimeLink", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="kano_respondent")
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["study", "id"]


class KanoResponse(models.Model):
    """A respondent's answer pair for one feature (classified by analysis.kano_category)."""

    respondent = models.ForeignKey(KanoRespondent, on_delete=models.PROTECT, related_name="answers")
    feature = models.ForeignKey(KanoFeature, on_delete=models.PROTECT, related_name="answers")
    functional = models.CharField(max_length=10, choices=KanoAnswer.choices)
    dysfunctional = models.CharField(max_length=10, choices=KanoAnswer.choices)

    class Meta:
        ordering = ["respondent", "feature"]
        constraints = [models.UniqueConstraint(fields=["respondent", "feature"], name="one_kano_answer_per_feature")]


# --- QFD house of quality (QFD-1) --------------------------------------------------------------------------


class Strength(BilingualChoices):
    """Relationship of a customer need and a technical characteristic (analysis.STRENGTHS); the
    cell stores the number, the label is `Strength.bilingual_of(str(n))`."""
    STRONG = "9", "强 ●", "Strong ●"
    MEDIUM = "3", "中 ○", "Medium ○"
    WEAK = "1", "弱 △", "Weak △"


class Correlation(BilingualChoices):
    """The roof: how two technical characteristics affect each other."""
    STRONG_POSITIVE = "++", "强正相关", "Strong positive"
    POSITIVE = "+", "正相关", "Positive"
    NEGATIVE = "-", "负相关", "Negative"
    STRONG_NEGATIVE = "--", "强负相关", "Strong negative"


class ImprovementDirection(BilingualChoices):
    UP = "up", "越大越好 ↑", "Larger is better ↑"
    DOWN = "down", "越小越好 ↓", "Smaller is better ↓"
    TARGET = "target", "达到目标值 ◎", "Hit the target ◎"


class HouseStatus(BilingualChoices):
    DRAFT = "draft", "草稿", "Draft"
    APPROVED = "approved", "已批准", "Approved"


class HouseOfQuality(models.Model):
    """QFD house of quality (质量屋): customer needs (rows, weighted) × technical
    characteristics (columns), relationship strengths 9/3/1, the roof; technical importance
    computed by analysis.qfd_importance. A controlled record, printed as PDF."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="house_of_quality")
    title = models.CharField(_("title"), max_length=200)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("product"))
    product_text = models.CharField(_("product / service"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=HouseStatus.choices, default=HouseStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("house of quality")
        verbose_name_plural = _("houses of quality")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.record.number} · {self.title}"


class QfdNeed(models.Model):
    """A row: a customer need (from a requirement, or written here) and its weight (1–5)."""

    house = models.ForeignKey(HouseOfQuality, on_delete=models.CASCADE, related_name="needs")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(_("customer need"), max_length=300)
    weight = models.PositiveSmallIntegerField(_("importance weight"), validators=SCORE)
    requirement = models.ForeignKey(CustomerRequirement, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="qfd_needs", verbose_name=_("customer requirement"))

    class Meta:
        ordering = ["house", "position"]
        constraints = [models.UniqueConstraint(fields=["house", "position"], name="qfd_need_position"),
                       models.UniqueConstraint(fields=["house", "text"], name="qfd_need_text"),
                       models.CheckConstraint(condition=models.Q(weight__range=(1, 5)), name="qfd_need_weight_1_5")]


class QfdCharacteristic(models.Model):
    """A column: a technical characteristic (how we meet the needs), its unit, direction and target."""

    house = models.ForeignKey(HouseOfQuality, on_delete=models.CASCADE, related_name="characteristics")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("technical characteristic"), max_length=200)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    direction = models.CharField(_("direction of improvement"), max_length=8, choices=ImprovementDirection.choices,
                                 blank=True)
    target = models.CharField(_("target value"), max_length=60, blank=True)

    class Meta:
        ordering = ["house", "position"]
        constraints = [models.UniqueConstraint(fields=["house", "position"], name="qfd_characteristic_position"),
                       models.UniqueConstraint(fields=["house", "name"], name="qfd_characteristic_name")]


class QfdRelationship(models.Model):
    """A cell of the matrix: need × characteristic = 9, 3 or 1 (absent = no relationship)."""

    need = models.ForeignKey(QfdNeed, on_delete=models.CASCADE, related_name="relationships")
    characteristic = models.ForeignKey(QfdCharacteristic, on_delete=models.CASCADE, related_name="relationships")
    strength = models.PositiveSmallIntegerField()  # 9, 3 or 1 (Strength)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["need", "characteristic"], name="one_qfd_cell"),
                       models.CheckConstraint(condition=models.Q(strength__in=(9, 3, 1)), name="qfd_strength_9_3_1")]


class QfdCorrelation(models.Model):
    """A cell of the roof: two characteristics (first.position < second.position)."""

    first = models.ForeignKey(QfdCharacteristic, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(QfdCharacteristic, on_delete=models.CASCADE, related_name="+")
    correlation = models.CharField(max_length=2, choices=Correlation.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="one_qfd_roof_cell"),
                       models.CheckConstraint(condition=~models.Q(first=models.F("second")),
                                              name="qfd_roof_not_itself")]


# --- CR-5 change of an approved requirement (需求变更) ------------------------------------------------------


class ChangeStatus(BilingualChoices):
    IN_REVIEW = "in_review", "评审中", "In review"
    AWAITING_APPROVAL = "awaiting_approval", "待批准", "Awaiting approval"
    APPROVED = "approved", "已批准", "Approved"
    REJECTED = "rejected", "已驳回", "Rejected"


OPEN_CHANGE_STATUSES = (ChangeStatus.IN_REVIEW, ChangeStatus.AWAITING_APPROVAL)

#: the fields of an approved requirement a change may alter, in form order
CHANGEABLE_FIELDS = ("customer_words", "meaning", "importance", "urgency", "kano_category", "feasibility",
                     "changes_product_or_process", "due_date", "review_departments")


class RequirementChange(models.Model):
    """CR-5: a change to an approved requirement (status approved / in implementation), reviewed
    by the departments concerned and approved again. `changes` holds each altered field's old and
    new value ({field: [old, new]}); the requirement is changed only when the change is approved,
    and every change, approved or rejected, is kept. The RequirementChangeFlow's artifact."""

    requirement = models.ForeignKey(CustomerRequirement, on_delete=models.PROTECT, related_name="changes")
    number = models.PositiveSmallIntegerField(_("change number"))
    changes = models.JSONField(default=dict)
    review_departments = models.JSONField(default=list)
    reason = models.TextField(_("reason for the change"))
    status = models.CharField(_("status"), max_length=20, choices=ChangeStatus.choices,
                              default=ChangeStatus.IN_REVIEW)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("approval conclusion"), blank=True)

    class Meta:
        verbose_name = _("requirement change")
        ordering = ["requirement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["requirement", "number"], name="requirement_change_number"),
            models.UniqueConstraint(fields=["requirement"], condition=models.Q(status__in=OPEN_CHANGE_STATUSES),
                                    name="one_open_change_per_requirement"),
        ]

    def __str__(self):
        return f"{self.requirement.record.number} Δ{self.number}"


class RequirementChangeReview(DepartmentVerdict):
    """One department's signed verdict on a change (the same review as the requirement's)."""

    change = models.ForeignKey(RequirementChange, on_delete=models.CASCADE, related_name="reviews")

    class Meta(DepartmentVerdict.Meta):
        constraints = [models.UniqueConstraint(fields=["change", "department"],
                                               name="one_change_review_per_department")]


class RequirementChangeProcess(Process):
    """The process of a change: a RequirementChange is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Customer requirement change")
        verbose_name_plural = _("Customer requirement changes")

    @property
    def change(self):
        return change_of(self)


def change_of(process):
    """The RequirementChange a change process works on (cached on the process), or None."""
    return artifact_of(process, RequirementChange, select_related=("requirement__record", "requirement__customer"))


# --- a P4 document change or a P3 CAPA raised from a requirement (CR-4, linked both ways) ------------------


class RaisedKind(BilingualChoices):
    CAPA = "capa", "纠正预防措施", "Corrective action"
    DOCUMENT_CHANGE = "document_change", "文件更改", "Document change"


class RequirementRaised(models.Model):
    """A CAPA or a document change raised from a requirement; the raised record names the
    requirement's record as its source (capa: source reference; document: raised_from)."""

    requirement = models.ForeignKey(CustomerRequirement, on_delete=models.PROTECT, related_name="raised")
    kind = models.CharField(_("raised"), max_length=20, choices=RaisedKind.choices)
    record = models.ForeignKey("core.Record", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["requirement", "id"]


# --- CR-4 customer-specific requirements in P1 order reviews --------------------------------------------


class OrderCsr(models.Model):
    """A customer-specific requirement in force when a P1 order review was received, frozen
    (number and the customer's words as they then stood) for that review's record."""

    order_record = models.ForeignKey("core.Record", on_delete=models.PROTECT, related_name="+")
    requirement = models.ForeignKey(CustomerRequirement, on_delete=models.PROTECT, related_name="order_reviews")
    words = models.TextField()

    class Meta:
        ordering = ["order_record", "requirement"]
        constraints = [models.UniqueConstraint(fields=["order_record", "requirement"], name="one_order_csr")]


class OrderCsrStatement(models.Model):
    """A P1 reviewing department's statement of how the order addresses the customer-specific
    requirements frozen for it (one per department and review round)."""

    order_record = models.ForeignKey("core.Record", on_delete=models.PROTECT, related_name="+")
    round_number = models.PositiveSmallIntegerField()
    department = models.CharField(max_length=20, choices=Department.choices)
    statement = models.TextField()
    stated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order_record", "round_number", "department"]
        constraints = [models.UniqueConstraint(fields=["order_record", "round_number", "department"],
                                               name="one_order_csr_statement")]
