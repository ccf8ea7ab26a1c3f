"""P1 order / contract review: the working data of the order review record sheet, the
contract change notice, the production plan and the contract ledger. Each change goes
through procedures.order_review.actions, which also stores a new immutable record version."""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from viewflow.workflow.models import Process

from accounts.models import Department
from core.choices import BilingualChoices
from core.prefetch import keep_related
from forms.models import Customer, Product, StoredUpload
from workflows.models import artifact_of


class OrderKind(BilingualChoices):
    ORDER = "order", "订单", "Order"
    CONTRACT = "contract", "合同", "Contract"


class ReviewMethod(BilingualChoices):
    RELAY = "relay", "传递评审", "Circulation"
    MEETING = "meeting", "会议评审", "Meeting"


class SampleRule(BilingualChoices):
    """How a sample order was decided (P1.2: by quantity, or by the reviewers)."""
    QUANTITY = "quantity", "按数量判定", "By quantity"
    REVIEWERS = "reviewers", "按评审部门", "By the reviewers"


class MaterialReadiness(BilingualChoices):
    READY = "ready", "物料齐备", "Materials ready"
    TO_ORDER = "to_order", "需采购（可及时到货）", "To be procured in time"
    SHORT = "short", "物料短缺（无法及时采购）", "Shortage: cannot be procured in time"


class OrderReviewStatus(BilingualChoices):
    IN_REVIEW = "in_review", "评审中", "In review"
    NEGOTIATION = "negotiation", "与客户协商中", "Negotiating with customer"
    AWAITING_APPROVAL = "awaiting_approval", "待批准", "Awaiting approval"
    APPROVED = "approved", "已批准", "Approved"
    DECLINED = "declined", "不接受", "Declined"
    REJECTED = "rejected", "批准人已驳回", "Rejected by approver"
    CHANGE_IN_REVIEW = "change_in_review", "变更评审中", "Change in review"
    CANCELLED = "cancelled", "已取消", "Cancelled"  # an approved cancellation change notice (P1.6)


class OrderReview(models.Model):
    """订单评审记录表 — order review record sheet (P1.4)."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="order_review")
    kind = models.CharField(_("order or contract"), max_length=10, choices=OrderKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, verbose_name=_("customer"))
    order_number = models.CharField(_("order / contract number"), max_length=50)
    order_date = models.DateField(_("order date"))
    verbal = models.BooleanField(_("verbal order"), default=False)
    verbal_confirmation = models.TextField(_("confirmation of a verbal order"), blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=200, blank=True)
    delivery_place = models.CharField(_("delivery place"), max_length=200, blank=True)
    transport = models.CharField(_("packaging and transport"), max_length=200, blank=True)
    special_requirements = models.TextField(_("special requirements"), blank=True)
    # REQ-2: what the review must cover besides the customer's stated requirements
    implied_requirements = models.TextField(_("requirements not stated but needed for the intended use"), blank=True)
    statutory_requirements = models.TextField(_("statutory and regulatory requirements"), blank=True)
    company_requirements = models.TextField(_("the company's own requirements"), blank=True)
    after_delivery_requirements = models.TextField(_("delivery and after-delivery requirements"), blank=True)
    # REQ-3: terms that differ from the quotation or an earlier order, resolved before acceptance
    quote_reference = models.CharField(_("quotation / earlier order"), max_length=50, blank=True)
    quote_differences = models.TextField(_("differences from the quotation / earlier order"), blank=True)
    differences_resolution = models.TextField(_("how the differences were resolved"), blank=True)
    sample_override = models.BooleanField(_("reviewers decide: sample"), null=True, blank=True)
    review_method = models.CharField(
        _("review method"), max_length=10, default="relay",
        choices=ReviewMethod.choices,
    )
    # a meeting review (会议评审) records who attended and its minutes
    meeting_attendees = models.TextField(_("meeting attendees"), blank=True)
    meeting_minutes = models.TextField(_("meeting minutes"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OrderReviewStatus.choices,
                              default=OrderReviewStatus.IN_REVIEW)
    revision = models.PositiveIntegerField(_("revision"), default=0)
    conclusion = models.TextField(_("review conclusion"), blank=True)
    declined_reason = models.TextField(_("reason declined"), blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "forms_orderreview"  # kept from before the move to this app
        verbose_name = _("order review")
        constraints = [
            models.UniqueConstraint(fields=["customer", "order_number"], name="unique_order_per_customer"),
        ]

    def __str__(self):
        return f"{self.record.number} · {self.order_number}"

    def lines_with_products(self):
        """The order's lines in position order with their products: those kept on this object when it wrote them
        (keep_lines) or prefetched with their products, else read in one query."""
        cached = getattr(self, "_prefetched_objects_cache", {}).get("lines")
        if cached is not None and all(OrderLine.product.field.is_cached(line) for line in cached):
            return list(cached)
        return list(self.lines.select_related("product"))

    def keep_lines(self, lines):
        """`lines` (with their products) are this order's lines now, as just written: review.lines.all() and
        lines_with_products() answer with them, without reading them back (as prefetch_related would keep them)."""
        keep_related(self, "lines", sorted(lines, key=lambda line: line.position))

    @property
    def is_sample(self):
        """src 6.2.2: a sample is an order of ≤ 200 pieces per line, or what the reviewers decide."""
        if self.sample_override is not None:
            return self.sample_override
        limit = settings.QMS["SAMPLE_MAX_QUANTITY"]
        lines = list(self.lines.all())
        return bool(lines) and all(line.quantity <= limit for line in lines)

    @property
    def total_amount(self):
        return sum((line.amount for line in self.lines.all()), Decimal("0"))


class OrderLine(models.Model):
    order_review = models.ForeignKey(OrderReview, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    specification = models.CharField(_("specification"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3,
                                   validators=[MinValueValidator(Decimal("0.001"))])
    unit = models.CharField(_("unit"), max_length=20)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4, null=True, blank=True)
    packaging = models.CharField(_("packaging"), max_length=200, blank=True)
    delivery_date = models.DateField(_("delivery date"))

    class Meta:
        db_table = "forms_orderline"  # kept from before the move to this app
        ordering = ["position"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="line_quantity_positive")]

    @property
    def amount(self):
        return (self.unit_price or Decimal("0")) * self.quantity


class Verdict(BilingualChoices):
    CAN_MEET = "can_meet", "能满足", "Can meet"
    WITH_CONDITIONS = "conditions", "有条件满足", "Can meet with conditions"
    CANNOT_MEET = "cannot_meet", "不能满足", "Cannot meet"



REVIEWING_DEPARTMENTS = [Department.QUALITY, Department.PRODUCTION, Department.ENGINEERING, Department.MATERIALS]
# src 6.3.8: Market (业务) gives its own opinion on the record sheet in the first round: delivery
# date, unit price, packaging, and its representative signs. A change is issued and signed by Market.
FIRST_ROUND_DEPARTMENTS = [Department.MARKET, *REVIEWING_DEPARTMENTS]


class RequirementCategory(BilingualChoices):
    """REQ-2: what every department review must address, one answer per category."""
    STATED = "stated", "顾客明示的要求", "Customer's stated requirements"
    DELIVERY = "delivery", "交付及交付后要求", "Delivery and after-delivery requirements"
    UNSTATED = "unstated", "顾客未明示但预期用途所需的要求", "Unstated requirements needed for the intended use"
    COMPANY = "company", "公司自身的要求", "The company's own requirements"
    STATUTORY = "statutory", "法律法规要求", "Statutory and regulatory requirements"
    DIFFERENCES = "differences", "与报价或先前订单不一致的条款", "Terms differing from the quotation / earlier order"


class CategoryAnswer(BilingualChoices):
    MET = "met", "已评审，可满足", "Reviewed: can be met"
    NOT_APPLICABLE = "na", "不适用", "Not applicable"
    ISSUE = "issue", "有问题（见意见）", "Issue (see comment)"


class ReviewRound(models.Model):
    """One pass of the parallel department reviews. A change notice opens a new round
    for the departments it affects."""

    order_review = models.ForeignKey(OrderReview, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    departments = models.JSONField(default=list)
    change_notice = models.ForeignKey("ChangeNotice", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    process = models.ForeignKey("viewflow.Process", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "forms_reviewround"  # kept from before the move to this app
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["order_review", "number"], name="unique_round")]


class DepartmentReview(models.Model):
    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="reviews")
    department = models.CharField(max_length=20, choices=Department.choices)
    verdict = models.CharField(_("verdict"), max_length=12, choices=Verdict.choices)
    comment = models.TextField(_("comment"), blank=True)
    material_readiness = models.CharField(
        _("material readiness"), max_length=12, blank=True,
        choices=MaterialReadiness.choices,
    )
    # REQ-2: {category: CategoryAnswer} — every requirement category addressed
    categories = models.JSONField(_("requirement categories addressed"), default=dict, blank=True)
    # src 6.3.8, Market's own review: {"delivery_date": …, "unit_price": …, "packaging": …}
    market_opinion = models.JSONField(_("Market's opinion"), default=dict, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "forms_departmentreview"  # kept from before the move to this app
        ordering = ["department"]
        constraints = [models.UniqueConstraint(fields=["round", "department"], name="one_review_per_round")]


class ChangeCategory(BilingualChoices):
    INCREASE = "increase", "加量", "Quantity increase"
    EARLIER = "earlier", "提前", "Earlier delivery"
    LATER = "later", "延后", "Later delivery"
    CANCEL = "cancel", "取消", "Cancellation"
    REPLENISH = "replenish", "补货", "Replenishment"
    OTHER = "other", "其他", "Other"


class ChangeNoticeStatus(BilingualChoices):
    IN_REVIEW = "in_review", "评审中", "In review"
    APPROVED = "approved", "已批准", "Approved"
    DECLINED = "declined", "不接受", "Declined"
    REJECTED = "rejected", "已驳回", "Rejected"


class ChangeNotice(models.Model):
    """合同变更通知单 — contract change notice (P1.3, P1.6)."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="change_notice")
    order_review = models.ForeignKey(OrderReview, on_delete=models.PROTECT, related_name="change_notices")
    category = models.CharField(_("change category"), max_length=12, choices=ChangeCategory.choices)
    reason = models.TextField(_("reason for the change"))
    before = models.JSONField(default=list)
    after = models.JSONField(default=list)
    affected_departments = models.JSONField(default=list)
    customer_confirmed = models.BooleanField(_("customer confirmed"), default=False)
    after_approval = models.BooleanField(default=False)
    status = models.CharField(max_length=12, default=ChangeNoticeStatus.IN_REVIEW, choices=ChangeNoticeStatus.choices)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "forms_changenotice"  # kept from before the move to this app


class PlanStatus(BilingualChoices):
    ISSUED = "issued", "已发布", "Issued"
    SUPERSEDED = "superseded", "已被取代", "Superseded"


class ProductionPlan(models.Model):
    """生产计划 — production / work plan written by Materials after approval (P1.5)."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="production_plan")
    order_review = models.ForeignKey(OrderReview, on_delete=models.PROTECT, related_name="plans")
    order_revision = models.PositiveIntegerField()
    planned_start = models.DateField(_("planned start"))
    planned_finish = models.DateField(_("planned finish"))
    material_readiness = models.TextField(_("material readiness"))
    notes = models.TextField(_("notes"), blank=True)
    # the order lines the plan was written for (an order changed later does not change the plan)
    lines = models.JSONField(default=list)
    status = models.CharField(_("status"), max_length=12, default="issued", choices=PlanStatus.choices)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("superseded by"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "forms_productionplan"  # kept from before the move to this app


class LedgerStatus(BilingualChoices):
    """The state of a contract ledger line (合同台账): the one home of its labels."""
    OPEN = "open", "执行中", "Open"
    SHIPPED = "shipped", "已全部发货（关闭）", "Shipped (closed)"
    CANCELLED = "cancelled", "已取消", "Cancelled"


class LedgerEntry(models.Model):
    """合同台账 — one line per accepted order/contract; revisions visible (P1.5, src 7)."""

    order_review = models.OneToOneField(OrderReview, on_delete=models.PROTECT, related_name="ledger_entry")
    contract_number = models.CharField(_("contract number"), max_length=50)
    kind = models.CharField(_("type"), max_length=10, choices=OrderKind.choices)
    status = models.CharField(_("status"), max_length=20, choices=LedgerStatus.choices, default=LedgerStatus.OPEN,
                              db_index=True)
    ordered_quantity = models.DecimalField(_("ordered"), max_digits=14, decimal_places=3, default=0)
    customer_name = models.CharField(_("customer"), max_length=200)
    signed_date = models.DateField(_("date signed"))
    delivery_date = models.DateField(_("delivery date"))
    total_amount = models.DecimalField(_("total amount"), max_digits=14, decimal_places=2)
    shipped_quantity = models.DecimalField(_("shipped"), max_digits=14, decimal_places=3, default=0)
    open_quantity = models.DecimalField(_("not shipped"), max_digits=14, decimal_places=3)
    revision = models.PositiveIntegerField(_("revision"), default=0)
    remarks = models.TextField(_("remarks"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "forms_ledgerentry"  # kept from before the move to this app
        ordering = ["-signed_date", "contract_number"]
        verbose_name = _("contract ledger line")


class LedgerRevision(models.Model):
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="revisions")
    revision = models.PositiveIntegerField()
    change_notice = models.ForeignKey(ChangeNotice, null=True, blank=True, on_delete=models.PROTECT)
    summary = models.TextField()
    # what the revision changed on the ledger line: {"field": [old, new]} (e.g. delivery_date, status)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "forms_ledgerrevision"  # kept from before the move to this app
        ordering = ["revision"]
        constraints = [models.UniqueConstraint(fields=["entry", "revision"], name="unique_ledger_revision")]


class LedgerShipment(models.Model):
    """A shipment against a contract ledger line, recorded by the finished-goods store (成品库):
    date, product, quantity, lot and delivery note. Updates the line's shipped / open quantities."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="shipments")
    shipped_on = models.DateField(_("shipment date"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity shipped"), max_digits=12, decimal_places=3,
                                   validators=[MinValueValidator(Decimal("0.001"))])
    lot_number = models.CharField(_("lot / batch number"), max_length=60)
    delivery_note = models.CharField(_("delivery note"), max_length=60)
    remarks = models.TextField(_("remarks"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipped_on", "pk"]
        verbose_name = _("shipment")
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="shipment_quantity_positive")]


class Attachment(StoredUpload):
    """A file attached to a record's working data (customer PO scan, drawing, spec).
    Its SHA-256 goes into the record version, so the signature covers the file."""

    order_review = models.ForeignKey(OrderReview, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")

    class Meta:
        db_table = "forms_attachment"  # kept from before the move to this app
        ordering = ["id"]


class ChangeReceipt(models.Model):
    """接收人/签收时间 — a department's signed receipt of an approved change (REQ-6)."""

    notice = models.ForeignKey(ChangeNotice, on_delete=models.PROTECT, related_name="receipts")
    department = models.CharField(max_length=20, choices=Department.choices)
    receiver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    comment = models.TextField(blank=True)
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "forms_changereceipt"  # kept from before the move to this app
        ordering = ["received_at"]
        constraints = [models.UniqueConstraint(fields=["notice", "department"], name="one_receipt_per_department")]


class OrderReviewProcess(Process):
    """P1 process: the OrderReview is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Order / contract review")
        verbose_name_plural = _("Order / contract reviews")

    @property
    def order_review(self):
        return order_review_of(self)


def order_review_of(process):
    """The OrderReview a P1 process works on (cached on the process), or None."""
    return artifact_of(process, OrderReview, select_related=("record", "customer"))
