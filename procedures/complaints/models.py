"""P2 complaints and returns, nonconforming product: the working data of the quality
information feedback form, the quality anomaly handling report, the material receipt, the
disposition and the periodic analysis, and the lots they hold. Each change goes through
procedures.complaints.actions, which also stores a new immutable record version."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import BilingualChoices

from viewflow.workflow.models import Process

from accounts.models import role_label
from forms.models import Customer, Product, StoredUpload
from workflows.models import artifact_of


# --- P2: complaints and returns (客户投诉与退货), nonconforming product ------------------------------------


class ComplaintKind(BilingualChoices):
    COMPLAINT = "complaint", "投诉", "Complaint"
    RETURN = "return", "退货", "Return"
    BOTH = "both", "投诉并退货", "Complaint and return"


class DefectCategory(BilingualChoices):
    """质量问题分类 — the class of defect as the customer describes it (for repeats and Pareto)."""

    APPEARANCE = "appearance", "外观", "Appearance"
    DIMENSION = "dimension", "尺寸", "Dimension"
    FUNCTION = "function", "功能/性能", "Function / performance"
    MATERIAL = "material", "材料", "Material"
    PACKAGING = "packaging", "包装/标识", "Packaging / labelling"
    QUANTITY = "quantity", "数量/混料", "Quantity / mixed parts"
    DOCUMENTS = "documents", "文件/证书", "Documents / certificates"
    OTHER = "other", "其他", "Other"


class CustomerRequest(BilingualChoices):
    RETURN = "return", "退货", "Return the goods"
    REPLACEMENT = "replacement", "换货/补货", "Replacement"
    REWORK = "rework", "返工/返修", "Rework / repair"
    DISCOUNT = "discount", "折价", "Price discount"
    COMPENSATION = "compensation", "赔偿", "Compensation"
    REPORT = "report", "调查报告 (8D)", "Investigation report (8D)"
    OTHER = "other", "其他", "Other"


class ComplaintChannel(BilingualChoices):
    PHONE = "phone", "电话", "Phone"
    EMAIL = "email", "邮件", "E-mail"
    LETTER = "letter", "信函/传真", "Letter / fax"
    VISIT = "visit", "来访", "Visit"
    OTHER = "other", "其他", "Other"


class ComplaintStatus(BilingualChoices):
    INSPECTION = "inspection", "待检验", "Awaiting inspection"
    JUDGEMENT = "judgement", "待判定", "Awaiting judgement"
    NEGOTIATION = "negotiation", "与客户协商中", "Negotiating with the customer"
    SETTLEMENT = "settlement", "与客户处理中", "Settling with the customer"
    HANDOVER = "handover", "移交资材", "Goods to Materials"
    RECEIPT = "receipt", "待入库", "Awaiting material receipt"
    DISPOSITION = "disposition", "待处置", "Awaiting disposition"
    SIGNOFF = "signoff", "处置待会签", "Disposition awaiting signatures"
    CUSTOMER_ACCEPTANCE = "customer_acceptance", "待客户认可", "Awaiting the customer's acceptance"
    REINSPECTION = "reinspection", "待复检", "Awaiting re-inspection"
    CAPA_DECISION = "capa_decision", "待纠正预防措施决定", "Awaiting CAPA decision"
    CLOSED = "closed", "已结案", "Closed"


class NegotiationOutcome(BilingualChoices):
    """How a case was settled with the customer [src 6.6.6]."""
    # not justified
    GOODS_SENT_BACK = "goods_sent_back", "退回客户", "Goods sent back to the customer"
    PRICE_AGREEMENT = "price_agreement", "价格协商", "Price agreement"
    CUSTOMER_WITHDREW = "customer_withdrew", "客户撤回", "Customer withdrew the complaint"
    # justified, without returned goods
    REPLACEMENT = "replacement", "补货/换货", "Replacement"
    DISCOUNT = "discount", "折价", "Discount"
    COMPENSATION = "compensation", "赔偿", "Compensation"
    EXPLANATION = "explanation", "书面答复/8D", "Written reply / 8D report"
    OTHER = "other", "其他", "Other"


NOT_JUSTIFIED_OUTCOMES = [NegotiationOutcome.GOODS_SENT_BACK, NegotiationOutcome.PRICE_AGREEMENT,
                          NegotiationOutcome.CUSTOMER_WITHDREW, NegotiationOutcome.OTHER]
SETTLEMENT_OUTCOMES = [NegotiationOutcome.REPLACEMENT, NegotiationOutcome.DISCOUNT, NegotiationOutcome.COMPENSATION,
                       NegotiationOutcome.EXPLANATION, NegotiationOutcome.OTHER]


class NcAction(BilingualChoices):
    """NC-3: what was done about the nonconformity besides the disposition."""
    CONTAINMENT = "containment", "隔离/冻结", "Segregation / containment"
    SORTING = "sorting", "挑选", "Sorting"
    STOP_SHIPMENT = "stop_shipment", "暂停发货", "Deliveries suspended"
    INFORM_CUSTOMER = "inform_customer", "通知客户", "Customer informed"
    CORRECTION = "correction", "纠正", "Correction"


class AnomalySource(BilingualChoices):
    CUSTOMER_RETURN = "customer_return", "客户退货", "Customer return"
    CUSTOMER_COMPLAINT = "customer_complaint", "客户投诉", "Customer complaint"
    IQC = "iqc", "来料检验 IQC", "Incoming inspection (IQC)"
    IPQC = "ipqc", "制程检验 IPQC", "In-process inspection (IPQC)"
    OQC = "oqc", "出货检验 OQC", "Outgoing inspection (OQC)"


INTERNAL_SOURCES = (AnomalySource.IQC, AnomalySource.IPQC, AnomalySource.OQC)


class CaseOrigin(BilingualChoices):
    """Where a nonconformity was found: at the customer (P2.1) or by our own inspection
    (PROCEDURES P2.2 source list, src 6.6.5 → the nonconforming-product procedure)."""
    CUSTOMER = "customer", "客户", "Customer"
    IQC = "iqc", "来料检验 IQC", "Incoming inspection (IQC)"
    IPQC = "ipqc", "制程检验 IPQC", "In-process inspection (IPQC)"
    OQC = "oqc", "出货检验 OQC", "Outgoing inspection (OQC)"


class LotStatus(BilingualChoices):
    ON_HOLD = "on_hold", "冻结（隔离）", "On hold"
    RELEASED = "released", "已放行", "Released"


class Lot(models.Model):
    """A production lot / batch of a product (批号). NC-1: a nonconforming lot is put on
    hold, which blocks its use and shipment until its disposition is complete."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    number = models.CharField(_("lot / batch number"), max_length=60)
    quantity = models.DecimalField(_("quantity held"), max_digits=12, decimal_places=3, default=0)
    status = models.CharField(_("status"), max_length=10, choices=LotStatus.choices, default=LotStatus.ON_HOLD,
                              db_index=True)
    hold_reason = models.TextField(_("reason for the hold"), blank=True)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("held by"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("released by"))
    release_note = models.TextField(_("release note"), blank=True)

    class Meta:
        db_table = "forms_lot"  # kept from before the move to this app
        verbose_name = _("lot")
        ordering = ["product__code", "number"]
        constraints = [models.UniqueConstraint(fields=["product", "number"], name="unique_lot_per_product")]

    def __str__(self):
        return f"{self.product.code} / {self.number}"

    @property
    def on_hold(self):
        return self.status == LotStatus.ON_HOLD


class ComplaintCase(models.Model):
    """质量信息反馈单 — quality information feedback form: one customer complaint and/or
    return and everything decided about it (P2.1, 2.3, 2.6)."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="complaint_case")
    # An internal inspection (IQC / IPQC / OQC) opens a case too: its record is the anomaly report
    # itself (no feedback form), the customer is optional and an IQC names the supplier.
    origin = models.CharField(_("found at"), max_length=10, choices=CaseOrigin.choices, default=CaseOrigin.CUSTOMER,
                              db_index=True)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    kind = models.CharField(_("complaint or return"), max_length=10, choices=ComplaintKind.choices)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name=_("customer"))
    contact = models.CharField(_("customer contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    channel = models.CharField(_("how the complaint came in"), max_length=10, choices=ComplaintChannel.choices,
                               default=ComplaintChannel.EMAIL)
    received_on = models.DateField(_("date received"))
    order_review = models.ForeignKey("order_review.OrderReview", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="complaints", verbose_name=_("order review"))
    order_reference = models.CharField(_("order / contract number"), max_length=50, blank=True)
    delivery_note = models.CharField(_("delivery note number"), max_length=50, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    specification = models.CharField(_("specification"), max_length=200, blank=True)
    lot_number = models.CharField(_("lot / batch number"), max_length=60, blank=True)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    lot_held = models.BooleanField(default=False)  # this case holds its lot (NC-1)
    quantity_delivered = models.DecimalField(_("quantity delivered"), max_digits=12, decimal_places=3)
    quantity_affected = models.DecimalField(_("quantity affected / returned"), max_digits=12, decimal_places=3)
    defect_category = models.CharField(_("defect class"), max_length=12, choices=DefectCategory.choices)
    description = models.TextField(_("defect as the customer describes it"))
    customer_request = models.CharField(_("what the customer asks for"), max_length=12,
                                        choices=CustomerRequest.choices)
    customer_request_detail = models.TextField(_("customer request in detail"), blank=True)
    contract_requires_acceptance = models.BooleanField(
        _("the contract requires the customer's acceptance of a concession"), default=False)
    repeat_count = models.PositiveIntegerField(_("earlier complaints (same customer, product and defect class)"),
                                               default=0)
    status = models.CharField(_("status"), max_length=20, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.INSPECTION, db_index=True)
    justified = models.BooleanField(_("justified"), null=True, blank=True)
    judgement = models.TextField(_("reasoning of the judgement"), blank=True)
    judged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    judged_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome agreed with the customer"), max_length=20, blank=True)
    outcome_notes = models.TextField(_("record of the negotiation"), blank=True)
    settlement_amount = models.DecimalField(_("amount agreed with the customer"), max_digits=12, decimal_places=2,
                                            default=0)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    handed_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    handover_note = models.TextField(_("handover note"), blank=True)
    capa_required = models.BooleanField(_("corrective / preventive action needed"), null=True, blank=True)
    capa_reason = models.TextField(_("reason"), blank=True)
    capa_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    capa_decided_at = models.DateTimeField(null=True, blank=True)
    capa_reference = models.CharField(_("CAPA record"), max_length=32, blank=True)  # set by the CAPA flow (P3)
    capa_closed_at = models.DateTimeField(null=True, blank=True)  # set by the CAPA flow (P3)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    # 回访满意度 (issue 17): Market asks the customer, once the case is closed, how satisfied they are
    # with its handling (1 … FOLLOW_UP_SCALE); it feeds the satisfaction figures (procedures.satisfaction).
    follow_up_score = models.PositiveSmallIntegerField(_("follow-up satisfaction"), null=True, blank=True)
    follow_up_remark = models.TextField(_("follow-up remark"), blank=True)
    follow_up_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    follow_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "forms_complaintcase"  # kept from before the move to this app
        verbose_name = _("complaint / return")
        indexes = [models.Index(fields=["customer", "product", "defect_category", "received_on"],
                                name="complaint_repeat_lookup")]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity_affected__gt=0), name="complaint_affected_positive"),
            models.CheckConstraint(condition=models.Q(quantity_delivered__gt=0), name="complaint_delivered_positive"),
        ]

    def __str__(self):
        return f"{self.record.number} · {self.party}"

    @property
    def internal(self):
        """Found by our own inspection (IQC / IPQC / OQC), not by a customer."""
        return self.origin != CaseOrigin.CUSTOMER

    @property
    def party(self):
        """Who the case is about: the customer, else the supplier (IQC), else the inspection."""
        if self.customer_id:
            return str(self.customer)
        return self.supplier or str(self.get_origin_display())

    @property
    def goods_returned(self):
        return self.kind in (ComplaintKind.RETURN, ComplaintKind.BOTH)


class ComplaintPhoto(StoredUpload):
    """A photo of the defect (intake or inspection). Its SHA-256 goes into the record
    version, so the signature covers the picture."""

    case = models.ForeignKey(ComplaintCase, on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(max_length=12, choices=[("intake", _("Intake")), ("inspection", _("Inspection"))])
    file = models.FileField(upload_to="complaints/%Y/%m/")

    class Meta:
        db_table = "forms_complaintphoto"  # kept from before the move to this app
        ordering = ["id"]


class DefectGrade(BilingualChoices):
    A = "A", "A 致命", "A — critical"
    B = "B", "B 严重", "B — major"
    C = "C", "C 轻微", "C — minor"


class AnomalyReport(models.Model):
    """品质异常处理报告 — quality anomaly handling report, the nonconformity record of the
    case (P2.2, 2.5; NC-2, NC-6)."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="anomaly_report")
    case = models.OneToOneField(ComplaintCase, on_delete=models.PROTECT, related_name="anomaly_report")
    source = models.CharField(_("source"), max_length=20,
                              choices=AnomalySource.choices)
    quantity_inspected = models.DecimalField(_("quantity inspected"), max_digits=12, decimal_places=3, null=True,
                                             blank=True)
    quantity_defective = models.DecimalField(_("quantity defective"), max_digits=12, decimal_places=3, null=True,
                                             blank=True)
    sample_size = models.DecimalField(_("sample size"), max_digits=12, decimal_places=3, null=True, blank=True)
    defect_grade = models.CharField(_("defect grade"), max_length=1, choices=DefectGrade.choices)
    phenomenon = models.TextField(_("defect found"))
    cause_man = models.TextField(_("man (人)"), blank=True)
    cause_machine = models.TextField(_("machine (机)"), blank=True)
    cause_material = models.TextField(_("material (料)"), blank=True)
    cause_method = models.TextField(_("method (法)"), blank=True)
    cause_environment = models.TextField(_("environment (环)"), blank=True)
    cause_measurement = models.TextField(_("measurement (测)"), blank=True)
    cause_summary = models.TextField(_("cause analysis"))
    interim_measure = models.TextField(_("interim measure"))
    actions = models.JSONField(_("actions taken"), default=list)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    inspected_at = models.DateTimeField()

    class Meta:
        db_table = "forms_anomalyreport"  # kept from before the move to this app
        verbose_name = _("quality anomaly report")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_inspected__isnull=True) | models.Q(quantity_inspected__gt=0),
                name="anomaly_inspected_positive"),
            models.CheckConstraint(
                condition=models.Q(quantity_defective__isnull=True) | models.Q(quantity_defective__gte=0),
                name="anomaly_defective_not_negative"),
        ]

    @property
    def action_labels(self):
        """NC-3: the actions taken, in the reader's language."""
        return [str(NcAction(code).label) for code in self.actions if code in NcAction.values]

    @property
    def defect_rate(self):
        """不良率 in percent, or None without quantities."""
        if not self.quantity_inspected or self.quantity_defective is None:
            return None
        return (self.quantity_defective / self.quantity_inspected * 100).quantize(Decimal("0.01"))


class ReceiptStatus(BilingualChoices):
    """The status of a material receipt record (物料入库单): written once, when the goods are received."""
    RECEIVED = "received", "已入库", "Received"


class MaterialReceipt(models.Model):
    """物料入库单 — material receipt of the returned goods (P2.4), printed in three copies."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="material_receipt")
    case = models.OneToOneField(ComplaintCase, on_delete=models.PROTECT, related_name="material_receipt")
    store_location = models.CharField(_("store / location"), max_length=100)
    acceptance_result = models.TextField(_("acceptance result"), blank=True)
    receiver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()

    @property
    def total_quantity(self):
        return sum((line.quantity for line in self.lines.all()), Decimal("0"))

    class Meta:
        db_table = "forms_materialreceipt"  # kept from before the move to this app


class MaterialReceiptLine(models.Model):
    receipt = models.ForeignKey(MaterialReceipt, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    specification = models.CharField(_("specification"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    lot_number = models.CharField(_("lot / batch number"), max_length=60)

    class Meta:
        db_table = "forms_materialreceiptline"  # kept from before the move to this app
        ordering = ["position"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="receipt_quantity_positive")]


class DispositionCode(BilingualChoices):
    """NC-7 disposition codes."""

    CONCESSION = "concession", "让步接收（特采）", "Use as is (concession)"
    REWORK = "rework", "返工", "Rework"
    REPAIR = "repair", "返修", "Repair"
    REGRADE = "regrade", "降级使用", "Regrade"
    SCRAP = "scrap", "报废", "Scrap"
    RETURN_TO_SUPPLIER = "return_to_supplier", "退供应商", "Return to supplier"


class DispositionRule(models.Model):
    """NC-8: the signatures a disposition code needs besides the Quality manager's, and
    whether it needs the customer's acceptance (where the contract says so) and a
    re-inspection. Seeded with the defaults; edited in the admin (audited)."""

    code = models.CharField(_("disposition"), max_length=20, choices=DispositionCode.choices, unique=True)
    signers = models.JSONField(_("further signers"), default=list, blank=True,
                               help_text=_("department:role pairs, e.g. management:manager"))
    customer_acceptance = models.BooleanField(_("needs the customer's acceptance where the contract requires it"),
                                              default=False)
    reinspection = models.BooleanField(_("needs a recorded re-inspection before release"), default=False)

    class Meta:
        db_table = "forms_dispositionrule"  # kept from before the move to this app
        verbose_name = _("disposition rule")
        ordering = ["code"]

    def __str__(self):
        return str(self.get_code_display())


class DispositionStatus(BilingualChoices):
    SIGNOFF = "signoff", "待会签", "Awaiting signatures"
    REJECTED = "rejected", "会签人已驳回", "Rejected by a signer"
    REFUSED = "refused", "客户已拒绝", "Refused by the customer"
    FAILED = "failed", "复检不合格", "Re-inspection failed"
    APPROVED = "approved", "批准", "Approved"
    COMPLETED = "completed", "已完成", "Completed"


class Disposition(models.Model):
    """处置 — the Quality manager's disposition of the received lot (NC-3…NC-8). A
    rejection, a refusal by the customer or a failed re-inspection leads to a new
    revision; earlier ones stay on the record."""

    report = models.ForeignKey(AnomalyReport, on_delete=models.PROTECT, related_name="dispositions")
    revision = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=DispositionStatus.choices, default=DispositionStatus.SIGNOFF)
    lot_quantity = models.DecimalField(max_digits=12, decimal_places=3)
    cost = models.DecimalField(_("cost of the disposition"), max_digits=12, decimal_places=2, default=0)
    notes = models.TextField(_("notes"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    required_signers = models.JSONField(default=list)  # department:role pairs, from the rules in force
    needs_customer_acceptance = models.BooleanField(default=False)
    needs_reinspection = models.BooleanField(default=False)

    class Meta:
        db_table = "forms_disposition"  # kept from before the move to this app
        ordering = ["revision"]
        constraints = [models.UniqueConstraint(fields=["report", "revision"], name="unique_disposition_revision")]

    @property
    def required_signer_labels(self):
        return [role_label(*key.split(":")) for key in self.required_signers]


class DispositionLine(models.Model):
    disposition = models.ForeignKey(Disposition, on_delete=models.CASCADE, related_name="lines")
    code = models.CharField(_("disposition"), max_length=20, choices=DispositionCode.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        db_table = "forms_dispositionline"  # kept from before the move to this app
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="disposition_quantity_positive"),
            models.UniqueConstraint(fields=["disposition", "code"], name="one_line_per_code"),
        ]


class DispositionSignoff(models.Model):
    """A further signature a disposition needs (NC-8, SIG-17: the second check)."""

    disposition = models.ForeignKey(Disposition, on_delete=models.PROTECT, related_name="signoffs")
    signer_role = models.CharField(max_length=40)  # department:role
    approved = models.BooleanField()
    comment = models.TextField(blank=True)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "forms_dispositionsignoff"  # kept from before the move to this app
        ordering = ["signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["disposition", "signer_role"], name="one_signoff_per_role")]


class CustomerAcceptance(models.Model):
    """NC-4: the customer's acceptance of a concession, where the contract requires it."""

    disposition = models.OneToOneField(Disposition, on_delete=models.PROTECT, related_name="customer_acceptance")
    accepted = models.BooleanField(_("the customer accepts the concession"))
    customer_person = models.CharField(_("who at the customer"), max_length=100)
    accepted_on = models.DateField(_("date of the customer's answer"))
    reference = models.CharField(_("reference (letter, e-mail)"), max_length=100)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "forms_customeracceptance"  # kept from before the move to this app


class Reinspection(models.Model):
    """NC-5: the re-inspection of reworked / repaired goods, recorded before release."""

    disposition = models.OneToOneField(Disposition, on_delete=models.PROTECT, related_name="reinspection")
    quantity_passed = models.DecimalField(_("quantity passed"), max_digits=12, decimal_places=3)
    quantity_failed = models.DecimalField(_("quantity failed"), max_digits=12, decimal_places=3)
    result = models.TextField(_("result"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    inspected_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "forms_reinspection"  # kept from before the move to this app


class ComplaintAnalysis(models.Model):
    """客诉与退货分析 — the periodic complaint and return analysis (P2.7, CA-6), a
    management-review input signed by the Market manager."""

    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="complaint_analysis")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    trigger = models.CharField(max_length=10, choices=[("scheduled", _("Scheduled")), ("on_demand", _("On demand"))])
    figures = models.JSONField(default=dict)
    compiled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    compiled_at = models.DateTimeField()
    comment = models.TextField(_("management review notes"), blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "forms_complaintanalysis"  # kept from before the move to this app
        verbose_name = _("complaint and return analysis")
        ordering = ["-period_end", "-id"]


class MovementKind(BilingualChoices):
    RECEIPT = "receipt", "入库（供应商来料）", "Receipt of a supplier lot"
    ISSUE = "issue", "发料（领料到生产）", "Issue to production"


class MaterialMovement(models.Model):
    """A receipt of a supplier lot into the store or an issue of a lot to production, recorded by
    Materials / the store (NC-1: a lot on hold is refused). Written once, through
    procedures.complaints.actions.record_material_movement, with its audit entry."""

    kind = models.CharField(_("movement"), max_length=10, choices=MovementKind.choices)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    lot_number = models.CharField(_("lot / batch number"), max_length=60)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    work_order = models.CharField(_("work order / production line"), max_length=100, blank=True)
    document = models.CharField(_("document number (delivery note, picking list)"), max_length=60, blank=True)
    store_location = models.CharField(_("store / location"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    moved_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("material movement")
        ordering = ["-recorded_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="movement_quantity_positive")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.product.code} / {self.lot_number} × {self.quantity}"


class ComplaintProcess(Process):
    """P2 process: a complaint / return case (ComplaintCase) or a periodic analysis
    (ComplaintAnalysis) is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Complaint / return")
        verbose_name_plural = _("Complaints and returns")

    @property
    def complaint_case(self):
        return complaint_case_of(self)

    @property
    def complaint_analysis(self):
        return complaint_analysis_of(self)

    @property
    def summary_text(self):
        """One line for the process lists: the record, the customer and the lot's hold status."""
        case = self.complaint_case
        if case is not None:  # the lot and its hold first: the lists cut long lines
            lot = case.lot
            held = f" · {lot.number} {lot.get_status_display()}" if lot is not None else (
                f" · {case.lot_number}" if case.lot_number else "")
            return f"{case.record.number}{held} · {case.product.code} · {case.party}"
        analysis = self.complaint_analysis
        if analysis is not None:
            return f"{analysis.record.number} · {analysis.period_start} – {analysis.period_end}"
        return ""


CASE_RELATED = ("record", "customer", "product", "lot", "order_review__record")


def complaint_case_of(process):
    return artifact_of(process, ComplaintCase, select_related=CASE_RELATED)


def reported_case_of(process):
    """complaint_case_of() with the case's anomaly report in the same query, for the steps that
    come after the report exists (the judgement: its form and the SIG-17 check read the report).
    Only there: loaded before the report is created, the artifact would keep "no report"."""
    return artifact_of(process, ComplaintCase, select_related=(*CASE_RELATED, "anomaly_report"))


def complaint_analysis_of(process):
    return artifact_of(process, ComplaintAnalysis, select_related=("record",))
