"""P2's controlled records: the forms they are made on, their PDF templates, and the snapshots —
what a record version holds, built from the working tables by the actions and rebuilt by
verify_audit to find edits that went around them."""
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, department_label, role_label
from core.i18n import english
from core.registry import (
    RecordType, Sentence, register, register_action_texts, register_status_labels, register_version_reasons,
)

from .models import (
    AnomalySource, ComplaintChannel, ComplaintKind, ComplaintStatus, CustomerRequest, DefectCategory, DefectGrade,
    DispositionCode, DispositionSignoff, DispositionStatus, Lot, LotStatus, NcAction, NegotiationOutcome,
    ReceiptStatus,
)


def role_label_of(key):
    """'management:manager' → '总经理 General Manager' (a disposition's signer keys)."""
    return role_label(*key.split(":"))


def _snapshot(record):
    return snapshot_for_record(record)  # defined below: the registry keeps this function, not its name


# --- how the record page and the history API name the fields (the PDFs' labels; core.diffs) -----------------


def _party(prefix, label):
    return {
        prefix: label, f"{prefix}.name_zh": ("中文名称", "Name (Chinese)"), f"{prefix}.name_en": ("英文名称", "Name (English)"),
        f"{prefix}.code": ("客户代码", "Customer code"), f"{prefix}.address": ("地址", "Address"),
        f"{prefix}.contact": ("联系人", "Contact"), f"{prefix}.phone": ("电话", "Phone"),
    }


def _product_labels(prefix):
    return {prefix: ("产品", "Product"), f"{prefix}.code": ("型号/料号", "Product code"),
            f"{prefix}.name_zh": ("名称", "Name"), f"{prefix}.name_en": ("英文名称", "Name (English)")}


LOT_LABELS = {
    "lot": ("批号", "Lot"), "lot.number": ("批号", "Lot No."), "lot.status": ("批次状态", "Lot status"),
    "lot.status_label": None, "lot.on_hold": ("冻结", "On hold"), "lot.quantity_held": ("冻结数量", "Quantity held"),
    "lot.held_at": ("冻结时间", "Held at"), "lot.released_at": ("解冻时间", "Released at"),
    "lot.hold_reason": ("冻结原因", "Reason for the hold"), "lot.release_note": ("解冻说明", "Release note"),
}
JUDGEMENT_LABELS = {
    "judgement": ("有效判定", "Judgement"), "judgement.justified": ("判定", "Verdict"), "judgement.label": None,
    "judgement.reasoning": ("判定理由", "Reasoning"), "judgement.by": ("判定人", "Judged by"),
    "judgement.at": ("判定时间", "Judged at"),
}
CAPA_LABELS = {
    "capa": ("纠正预防措施", "Corrective action"), "capa.required": ("需要纠正预防措施?", "CAPA needed?"),
    "capa.reason": ("理由", "Reason"), "capa.reference": ("编号", "Reference"), "capa.by": ("决定人", "Decided by"),
    "capa.at": ("决定时间", "Decided at"),
}
PHOTO_LABELS = {
    "photos": ("照片", "Photos"), "photos[]": ("照片 {name}", "Photo {name}"), "photos[].name": ("文件名", "File name"),
    "photos[].size": ("大小", "Size"), "photos[].sha256": ("SHA-256", "SHA-256"),
    "photos[].content_type": ("类型", "Type"),
}
LOT_FORMATS = {"lot.status": "LotStatus", "lot.quantity_held": "number"}

FEEDBACK_LABELS = {
    "record_number": ("反馈单号", "Feedback No."), "kind": ("类别", "Kind"), "kind_label": None,
    "status": ("状态", "Status"), "status_label": None, "received_on": ("接收日期", "Date received"),
    "channel": ("投诉方式", "Channel"), "channel_label": None, "registered_by": ("反馈人", "Registered by"),
    "department": ("反馈部门", "Department"), **_party("customer", ("客户", "Customer")),
    "contact": ("联系人", "Contact"), "phone": ("电话", "Phone"), "order_reference": ("订单号", "Order No."),
    "order_record_number": ("订单评审记录", "Order review record"), "order_number": ("订单号", "Order No."),
    "delivery_note": ("发货单号", "Delivery note"), "delivery_date": ("出厂日期", "Delivery date"),
    **_product_labels("product"), "specification": ("型号规格", "Specification"), **LOT_LABELS,
    "quantity_delivered": ("交货数量", "Quantity delivered"), "quantity_affected": ("不良/退货数量", "Affected / returned"),
    "defect_category": ("问题分类", "Defect class"), "defect_category_label": None,
    "description": ("详细描述", "Description (customer's words)"),
    "customer_request": ("客户要求", "Customer request"), "customer_request_label": None,
    "customer_request_detail": ("客户要求说明", "Customer request (details)"),
    "contract_requires_acceptance": ("合同要求客户认可让步", "Contract requires the customer's acceptance of a concession"),
    "repeat_count": ("重复投诉次数", "Earlier complaints"), "repeat_window_days": ("统计天数", "Counted over (days)"),
    **PHOTO_LABELS, "anomaly_report": ("品质异常报告", "Anomaly report"), "material_receipt": ("物料入库单", "Material receipt"),
    "cause_summary": ("原因分析", "Cause analysis"), **JUDGEMENT_LABELS,
    "outcome": ("处理措施", "Outcome with the customer"), "outcome.code": ("处理措施", "Outcome"), "outcome.label": None,
    "outcome.notes": ("协商记录", "Negotiation record"), "outcome.amount": ("金额", "Amount"),
    "disposition": ("处置", "Disposition"), "disposition[].label": ("处置方式", "Disposition"),
    "disposition[].quantity": ("数量", "Qty"), **CAPA_LABELS, "cost": ("费用", "Cost"), "closed_at": ("结案", "Closed"),
    "follow_up": ("回访满意度", "Follow-up satisfaction"), "follow_up.score": ("满意度评分", "Score"),
    "follow_up.remark": ("回访记录", "Remark"), "follow_up.by": ("回访人", "Recorded by"),
    "follow_up.at": ("回访时间", "Recorded at"),
}
FEEDBACK_FORMATS = {
    "kind": "ComplaintKind", "status": "ComplaintStatus", "channel": "ComplaintChannel", "received_on": "date",
    "delivery_date": "date", **LOT_FORMATS, "quantity_delivered": "number", "quantity_affected": "number",
    "defect_category": "DefectCategory", "customer_request": "CustomerRequest", "photos[].size": "bytes",
    "outcome.code": "NegotiationOutcome", "outcome.amount": "number", "disposition[].quantity": "number",
    "cost": "number",
}
ANOMALY_LABELS = {
    "record_number": ("编号", "Report No."), "feedback_number": ("质量信息反馈单", "Feedback form"),
    "source": ("来源", "Source"), "source_label": None, **_party("customer", ("客户", "Customer")),
    "internal": ("内部检验", "Internal inspection"), "supplier": ("供应商", "Supplier"),
    "sample_size": ("抽样数", "Sample size"), "inspected_on": ("检验日期", "Inspected on"),
    "order_number": ("订单号", "Order No."), "order_record_number": ("订单评审记录", "Order review record"),
    **_product_labels("product"), "specification": ("规格", "Specification"), **LOT_LABELS,
    "quantity_affected": ("批量", "Lot quantity (affected)"), "quantity_inspected": ("检验数", "Inspected"),
    "quantity_defective": ("不良数", "Defective"), "defect_rate": ("不良率", "Defect rate"),
    "defect_grade": ("缺陷等级", "Defect grade"), "defect_grade_label": None, "phenomenon": ("不良现象", "Defect found"),
    **PHOTO_LABELS, "causes": ("原因分析", "Cause analysis"), "causes.man": ("人", "Man"),
    "causes.machine": ("机", "Machine"), "causes.material": ("料", "Material"), "causes.method": ("法", "Method"),
    "causes.environment": ("环", "Environment"), "causes.measurement": ("测", "Measurement"),
    "cause_summary": ("分析结论", "Conclusion"), "interim_measure": ("临时对策", "Interim measure"),
    "actions": ("已采取措施", "Actions taken"), "actions[]": ("第 {} 项", "Item {}"), "actions[].code": ("措施", "Action"),
    "actions[].label": None, "inspector": ("检验员", "Inspector"), "inspected_at": ("检验时间", "Inspected at"),
    **JUDGEMENT_LABELS,
    "dispositions": ("处置", "Disposition"), "dispositions[]": ("第 {} 版处置", "Disposition rev. {}"),
    "dispositions[].status": ("状态", "Status"), "dispositions[].status_label": None,
    "dispositions[].lot_quantity": ("批量", "Lot quantity"), "dispositions[].cost": ("费用", "Cost"),
    "dispositions[].notes": ("说明", "Notes"), "dispositions[].decided_by": ("处置人", "Decided by"),
    "dispositions[].decided_at": ("处置时间", "Decided at"), "dispositions[].lines": ("", ""),
    "dispositions[].lines[].label": None, "dispositions[].lines[].quantity": ("数量", "Qty"),
    "dispositions[].lines[].note": ("备注", "Note"), "dispositions[].required_signers": ("会签", "Sign-off"),
    "dispositions[].required_signers[].label": None, "dispositions[].required_signers[].decision": ("决定", "Decision"),
    "dispositions[].required_signers[].signer": ("签署人", "Signed by"),
    "dispositions[].required_signers[].signed_at": ("签署时间", "Signed at"),
    "dispositions[].required_signers[].comment": ("意见", "Comment"),
    "dispositions[].needs_customer_acceptance": ("需客户认可", "Customer's acceptance needed"),
    "dispositions[].customer_acceptance": ("客户认可", "Customer's acceptance"),
    "dispositions[].customer_acceptance.accepted": ("认可", "Accepted"),
    "dispositions[].customer_acceptance.customer_person": ("客户联系人", "Customer's person"),
    "dispositions[].customer_acceptance.accepted_on": ("日期", "Date"),
    "dispositions[].customer_acceptance.reference": ("编号", "Reference"),
    "dispositions[].customer_acceptance.notes": ("说明", "Notes"),
    "dispositions[].customer_acceptance.recorded_by": ("记录人", "Recorded by"),
    "dispositions[].needs_reinspection": ("需复检", "Re-inspection needed"),
    "dispositions[].reinspection": ("复检", "Re-inspection"),
    "dispositions[].reinspection.quantity_passed": ("合格数", "Passed"),
    "dispositions[].reinspection.quantity_failed": ("不合格数", "Failed"),
    "dispositions[].reinspection.result": ("结果", "Result"),
    "dispositions[].reinspection.inspector": ("检验员", "Inspector"),
    "dispositions[].reinspection.inspected_at": ("检验时间", "Inspected at"),
    "dispositions[].reinspection.passed": ("复检合格", "Passed re-inspection"),
    **CAPA_LABELS, "status": ("状态", "Status"), "status_label": None, "closed_at": ("结案", "Closed"),
}
ANOMALY_FORMATS = {
    "source": "AnomalySource", **LOT_FORMATS, "quantity_affected": "number", "sample_size": "number",
    "inspected_on": "date", "quantity_inspected": "number",
    "quantity_defective": "number", "defect_rate": "number", "defect_grade": "DefectGrade", "photos[].size": "bytes",
    "actions[].code": "NcAction", "dispositions[].status": "DispositionStatus", "dispositions[].lot_quantity": "number",
    "dispositions[].cost": "number", "dispositions[].lines[].code": "DispositionCode",
    "dispositions[].lines[].quantity": "number",
    "dispositions[].required_signers[].role": lambda key: role_label_of(key),
    "dispositions[].required_signers[].decision": "Meaning", "dispositions[].customer_acceptance.accepted_on": "date",
    "dispositions[].reinspection.quantity_passed": "number", "dispositions[].reinspection.quantity_failed": "number",
    "status": "ComplaintStatus",
}
ANOMALY_KEYS = {"dispositions": "revision", "dispositions[].lines": "code", "dispositions[].required_signers": "role",
                "photos": "sha256"}
RECEIPT_LABELS = {
    "record_number": ("单号", "Receipt No."), "received_at": ("日期", "Date"), "source": ("来源", "Source"),
    **_party("related_party", ("相关单位", "Related party")), "feedback_number": ("质量信息反馈单", "Feedback form"),
    "anomaly_report": ("品质异常报告", "Anomaly report"), "store_location": ("仓库/库位", "Store / location"),
    "acceptance_result": ("验收结果", "Acceptance result"), "lines": ("入库明细", "Lines"),
    "lines[]": ("第 {} 行", "Line {}"), **_product_labels("lines[].product"),
    "lines[].specification": ("规格", "Specification"), "lines[].unit": ("单位", "Unit"), "lines[].quantity": ("数量", "Qty"),
    "lines[].lot_number": ("批号", "Lot"), "lines[].lot_status": ("批次状态", "Lot status"),
    "lines[].lot_on_hold": ("冻结", "On hold"), "total_quantity": ("合计", "Total"),
    "receiver": ("收货人/仓管员", "Receiver"), "prepared_by": ("制单人", "Prepared by"),
}
RECEIPT_FORMATS = {"lines[].quantity": "number", "total_quantity": "number"}


def _ranking(prefix, label):
    return {prefix: label, f"{prefix}[]": ("第 {} 名", "Rank {}"), f"{prefix}[].key": ("项目", "Item"),
            f"{prefix}[].label": ("名称", "Name"), f"{prefix}[].count": ("次数", "Count"),
            f"{prefix}[].quantity": ("数量", "Quantity"), f"{prefix}[].cost": ("费用", "Cost"),
            f"{prefix}[].justified": ("成立", "Justified"), f"{prefix}[].share": ("占比 %", "Share %"),
            f"{prefix}[].cumulative": ("累计 %", "Cum. %")}


ANALYSIS_LABELS = {
    "record_number": ("编号", "No."), "period_start": ("期间开始", "Period from"), "period_end": ("期间结束", "Period to"),
    "trigger": ("编制方式", "Compiled"), "trigger_label": None, "compiled_by": ("编制", "Compiled by"),
    "compiled_at": ("编制时间", "Compiled at"), "totals": ("汇总", "Totals"),
    "totals.cases": ("客诉与退货总数", "Cases"), "totals.complaints": ("投诉", "Complaints"),
    "totals.returns": ("退货", "Returns"), "totals.both": ("投诉并退货", "Complaint and return"),
    "totals.justified": ("判定成立", "Justified"), "totals.not_justified": ("判定不成立", "Not justified"),
    "totals.undecided": ("待判定", "Not yet judged"), "totals.closed": ("已结案", "Closed"),
    "totals.quantity_affected": ("不良/退货数量", "Quantity affected"), "totals.cost": ("费用合计", "Total cost"),
    "totals.repeats": ("重复投诉", "Repeat complaints"),
    **_ranking("by_customer", ("按客户排列图", "Pareto by customer")),
    **_ranking("by_defect", ("按缺陷分类排列图", "Pareto by defect class")),
    **_ranking("by_product", ("按产品排列图", "Pareto by product")),
    "trend": ("趋势", "12-month trend"), "trend[].month": ("月份", "Month"), "trend[].complaints": ("投诉", "Complaints"),
    "trend[].returns": ("退货", "Returns"), "cases": ("本期明细", "Cases in the period"),
    "cases[].customer": ("客户", "Customer"), "cases[].defect": ("缺陷", "Defect"),
    "cases[].justified": ("成立", "Justified"),
    "cases[].kind": ("类别", "Kind"), "cases[].kind_label": None, "cases[].lot": ("批号", "Lot"),
    "cases[].product": ("产品", "Product"), "cases[].received_on": ("日期", "Date"), "cases[].status": ("状态", "Status"),
    "cases[].cost": ("费用", "Cost"), "capa": ("纠正预防措施", "Corrective actions"),
    "capa.open": ("未结", "Open (all periods)"), "capa.open_cases": ("未结案件", "Open for"),
    "capa.requested_in_period": ("本期申请", "Requested in the period"),
    "dispositions": ("处置数量", "Dispositions"), "dispositions[].label": ("处置方式", "Disposition"),
    "dispositions[].quantity": ("数量", "Quantity"), "charts": None,
    "comment": ("意见", "Notes"), "approval": ("批准", "Approval"), "approval.approver": ("市场部经理", "Market manager"),
    "approval.approved_at": ("日期", "Date"),
}
ANALYSIS_FORMATS = {"period_start": "date", "period_end": "date", "cases[].kind": "ComplaintKind",
                    "cases[].received_on": "date", "dispositions[].quantity": "number",
                    **{f"{p}[].{k}": "number" for p in ("by_customer", "by_defect", "by_product")
                       for k in ("quantity", "cost", "share", "cumulative")},
                    **{f"totals.{k}": "number" for k in ("quantity_affected", "cost")}, "cases[].cost": "number"}
ANALYSIS_KEYS = {"by_customer": "rank", "by_defect": "rank", "by_product": "rank", "trend": "month",
                 "cases": "number", "dispositions": "label"}


QUALITY_FEEDBACK = register(RecordType(
    code="quality_feedback", prefix="QF", title_zh="质量信息反馈单", title_en="Quality Information Feedback Form",
    form_code="QR-QA-002", form_revision="A/0", pdf_template="complaints/pdf/feedback_form.html", snapshot=_snapshot,
    field_labels=FEEDBACK_LABELS, field_formats=FEEDBACK_FORMATS,
    list_keys={"disposition": "label", "photos": "sha256"},
    # where the case stands, its lot's hold and its running cost move on after a signature
    state_fields=frozenset({"status", "lot.status", "lot.on_hold", "cost"}),
))
ANOMALY_REPORT = register(RecordType(
    code="anomaly_report", prefix="QAR", title_zh="品质异常处理报告", title_en="Quality Anomaly Handling Report",
    form_code="QR-QA-003", form_revision="A/0", pdf_template="complaints/pdf/anomaly_report.html", snapshot=_snapshot,
    field_labels=ANOMALY_LABELS, field_formats=ANOMALY_FORMATS, list_keys=ANOMALY_KEYS,
    state_fields=frozenset({"status", "lot.status", "lot.on_hold", "dispositions[].status"}),
))
MATERIAL_RECEIPT = register(RecordType(
    code="material_receipt", prefix="MR", title_zh="物料入库单", title_en="Material Receipt",
    form_code="QR-MC-002", form_revision="A/0", pdf_template="complaints/pdf/material_receipt.html",
    copies=("财务 Finance", "市场 Market", "成品库 Finished-goods store"), snapshot=_snapshot,
    field_labels=RECEIPT_LABELS, field_formats=RECEIPT_FORMATS, list_keys={"lines": "position"},
    state_fields=frozenset({"lines[].lot_status", "lines[].lot_on_hold"}),
))
COMPLAINT_ANALYSIS = register(RecordType(
    code="complaint_analysis", prefix="CRA", title_zh="客诉与退货分析", title_en="Complaint and Return Analysis",
    form_code="QR-MK-004", form_revision="A/0", pdf_template="complaints/pdf/complaint_analysis.html",
    snapshot=_snapshot, field_labels=ANALYSIS_LABELS, field_formats=ANALYSIS_FORMATS, list_keys=ANALYSIS_KEYS,
))


def register_statuses():
    for choices in (ComplaintStatus, DispositionStatus, LotStatus):
        register_status_labels(choices)
    register_status_labels(ReceiptStatus, record_types=[MATERIAL_RECEIPT.code])


def _amount(value):
    """A money amount as one canonical type in record data: a Decimal (stored as its
    normalised string, core.canonical). A model's default is the int 0 until the row is
    read back, when it becomes Decimal('0.00'); snapshotted as is, the version held 0
    and the rebuilt working data "0", and verify_audit warned on every open case."""
    return None if value is None else Decimal(str(value))


def outcome_label(code):
    return NegotiationOutcome.bilingual_of(code)


INSPECTOR = "品质部检验员 Quality inspector"


def customer_label(customer):
    """'华东电子科技有限公司 East China Electronics Co., Ltd.' (the English name once, if it differs)."""
    if customer.name_en and customer.name_en != customer.name_zh:
        return f"{customer.name_zh} {customer.name_en}"
    return customer.name_zh


def _product(product):
    return {"code": product.code, "name_zh": product.name_zh, "name_en": product.name_en}


def _photos(case, stage, photos=None):
    """`photos`: the case's photos when the caller already read them (case_photos), else read here."""
    return [{"name": p.original_name, "size": p.size, "sha256": p.sha256, "content_type": p.content_type}
            for p in (case.photos.all() if photos is None else photos) if p.stage == stage]


def case_photos(case):
    """The case's photos, read once for both snapshots of a step (same rows and order as case.photos.all())."""
    return list(case.photos.all())


def report_dispositions(report):
    """The report's dispositions by revision with everything _disposition() reads, in three queries
    whatever their number (dispositions with decider, acceptance and re-inspection; lines; sign-offs)."""
    return list(report.dispositions.select_related(
        "decided_by", "customer_acceptance__recorded_by", "reinspection__inspector").prefetch_related(
        "lines", Prefetch("signoffs", queryset=DispositionSignoff.objects.select_related("signer"))
    ).order_by("revision"))


def lot_info(case):
    """How the lot of a case prints: number and hold status (NC-1: a held lot shows as held)."""
    lot = case.lot
    if lot is None:
        return {"number": case.lot_number, "status": "", "status_label": "未冻结 Not on hold", "on_hold": False,
                "quantity_held": None, "held_at": None, "released_at": None}
    return {"number": lot.number, "status": lot.status, "status_label": LotStatus.bilingual_of(lot.status),
            "on_hold": lot.status == LotStatus.ON_HOLD, "quantity_held": lot.quantity,
            "held_at": lot.held_at, "released_at": lot.released_at, "hold_reason": lot.hold_reason,
            "release_note": lot.release_note}


def _judgement(case):
    if case.justified is None:
        return None
    return {"justified": case.justified, "label": "成立 Justified" if case.justified else "不成立 Not justified",
            "reasoning": case.judgement, "by": case.judged_by.printed_name if case.judged_by_id else "",
            "at": case.judged_at}


def _capa(case):
    if case.capa_required is None:
        return None
    return {"required": case.capa_required, "reason": case.capa_reason, "reference": case.capa_reference,
            "by": case.capa_decided_by.printed_name if case.capa_decided_by_id else "", "at": case.capa_decided_at}


def _disposition(d):
    signoffs = {s.signer_role: s for s in d.signoffs.all()}
    acceptance = getattr(d, "customer_acceptance", None) if d.pk else None
    reinspection = getattr(d, "reinspection", None) if d.pk else None
    return {
        "revision": d.revision, "status": d.status,
        "status_label": english(DispositionStatus(d.status).label),
        "lot_quantity": d.lot_quantity, "cost": _amount(d.cost), "notes": d.notes,
        "decided_by": d.decided_by.printed_name, "decided_at": d.decided_at,
        "lines": [{"code": l.code, "label": DispositionCode.bilingual_of(l.code), "quantity": l.quantity,
                   "note": l.note} for l in d.lines.all()],
        "required_signers": [{
            "role": key, "label": role_label_of(key),
            "decision": (None if key not in signoffs else ("approved" if signoffs[key].approved else "rejected")),
            "signer": signoffs[key].signer.printed_name if key in signoffs else "",
            "signed_at": signoffs[key].signed_at if key in signoffs else None,
            "comment": signoffs[key].comment if key in signoffs else "",
        } for key in d.required_signers],
        "needs_customer_acceptance": d.needs_customer_acceptance,
        "customer_acceptance": {
            "accepted": acceptance.accepted, "customer_person": acceptance.customer_person,
            "accepted_on": acceptance.accepted_on, "reference": acceptance.reference, "notes": acceptance.notes,
            "recorded_by": acceptance.recorded_by.printed_name,
        } if acceptance else None,
        "needs_reinspection": d.needs_reinspection,
        "reinspection": {
            "quantity_passed": reinspection.quantity_passed, "quantity_failed": reinspection.quantity_failed,
            "result": reinspection.result, "inspector": reinspection.inspector.printed_name,
            "inspected_at": reinspection.inspected_at, "passed": not reinspection.quantity_failed,
        } if reinspection else None,
    }


def current_disposition(case):
    report = getattr(case, "anomaly_report", None)
    if report is None:
        return None
    made = report.__dict__.get("_qms_new_disposition")  # made on this copy under the case's lock (dispose_lot)
    if made is not None:
        return made
    return report.dispositions.order_by("-revision").first()


def feedback_snapshot(case, *, photos=None, dispositions=None):
    """质量信息反馈单 — the case as its record prints it. `photos` (case_photos) and `dispositions`
    (report_dispositions of its anomaly report) when the caller already read them."""
    report = getattr(case, "anomaly_report", None)
    receipt = getattr(case, "material_receipt", None)
    if dispositions is None or report is None:
        disposition = current_disposition(case)
    else:  # by revision: the last is the current one
        disposition = dispositions[-1] if dispositions else None
    return {
        "record_number": case.record.number,
        "kind": case.kind, "kind_label": ComplaintKind.bilingual_of(case.kind),
        "status": case.status, "status_label": ComplaintStatus.bilingual_of(case.status),
        "received_on": case.received_on, "channel": case.channel,
        "channel_label": ComplaintChannel.bilingual_of(case.channel),
        "registered_by": case.started_by.printed_name, "department": department_label(Department.MARKET),
        "customer": case.customer.record_data(), "contact": case.contact, "phone": case.phone,
        "order_reference": case.order_reference,
        "order_record_number": case.order_review.record.number if case.order_review_id else None,
        "order_number": case.order_review.order_number if case.order_review_id else case.order_reference,
        "delivery_note": case.delivery_note, "delivery_date": case.delivery_date,
        "product": _product(case.product), "specification": case.specification,
        "lot": lot_info(case),
        "quantity_delivered": case.quantity_delivered, "quantity_affected": case.quantity_affected,
        "defect_category": case.defect_category,
        "defect_category_label": DefectCategory.bilingual_of(case.defect_category),
        "description": case.description,
        "customer_request": case.customer_request,
        "customer_request_label": CustomerRequest.bilingual_of(case.customer_request),
        "customer_request_detail": case.customer_request_detail,
        "contract_requires_acceptance": case.contract_requires_acceptance,
        "repeat_count": case.repeat_count,
        "repeat_window_days": repeat_window_days(),
        "photos": _photos(case, "intake", photos),
        "anomaly_report": report.record.number if report else None,
        "material_receipt": receipt.record.number if receipt else None,
        "cause_summary": report.cause_summary if report else "",
        "judgement": _judgement(case),
        "outcome": {"code": case.outcome, "label": outcome_label(case.outcome), "notes": case.outcome_notes,
                    "amount": _amount(case.settlement_amount)} if case.outcome else None,
        "disposition": [{"label": l["label"], "quantity": l["quantity"]} for l in _disposition(disposition)["lines"]]
        if disposition else [],
        "capa": _capa(case),
        "cost": _amount(case.cost),
        "closed_at": case.closed_at,
        **_follow_up(case),
    }


def _follow_up(case):
    """回访满意度 once Market recorded it (absent before: the versions made earlier stay as they were)."""
    if case.follow_up_score is None:
        return {}
    return {"follow_up": {"score": case.follow_up_score, "remark": case.follow_up_remark,
                          "by": case.follow_up_by.printed_name if case.follow_up_by_id else "",
                          "at": case.follow_up_at}}


def anomaly_snapshot(report, *, photos=None, dispositions=None):
    """品质异常处理报告 — the nonconformity record (NC-2, NC-6). `photos` (case_photos) and
    `dispositions` (report_dispositions) when the caller already read them."""
    case = report.case
    if dispositions is None:
        dispositions = report_dispositions(report)
    internal = {"internal": True, "supplier": case.supplier, "sample_size": report.sample_size,
                "inspected_on": case.received_on} if case.internal else {}
    return {
        "record_number": report.record.number,
        "feedback_number": None if case.internal else case.record.number,
        "source": report.source, "source_label": AnomalySource.bilingual_of(report.source),
        **internal,
        "customer": case.customer.record_data() if case.customer_id else None,
        "order_number": case.order_review.order_number if case.order_review_id else case.order_reference,
        "order_record_number": case.order_review.record.number if case.order_review_id else None,
        "product": _product(case.product), "specification": case.specification,
        "lot": lot_info(case),
        "quantity_affected": case.quantity_affected,
        "quantity_inspected": report.quantity_inspected, "quantity_defective": report.quantity_defective,
        "defect_rate": report.defect_rate,
        "defect_grade": report.defect_grade,
        "defect_grade_label": DefectGrade.bilingual_of(report.defect_grade),
        "phenomenon": report.phenomenon,
        "photos": _photos(case, "inspection", photos),
        "causes": {"man": report.cause_man, "machine": report.cause_machine, "material": report.cause_material,
                   "method": report.cause_method, "environment": report.cause_environment,
                   "measurement": report.cause_measurement},
        "cause_summary": report.cause_summary, "interim_measure": report.interim_measure,
        "actions": [{"code": a, "label": NcAction.bilingual_of(a)} for a in report.actions],
        "inspector": report.inspector.printed_name, "inspected_at": report.inspected_at,
        "judgement": _judgement(case),
        "dispositions": [_disposition(d) for d in dispositions],
        "capa": _capa(case),
        "status": case.status, "status_label": ComplaintStatus.bilingual_of(case.status),
        "closed_at": case.closed_at,
    }


def receipt_snapshot(receipt):
    case = receipt.case
    lots = {lot.number: lot for lot in Lot.objects.filter(product=case.product)}

    def lot_status(number):
        lot = lots.get(number)
        return LotStatus.bilingual_of(lot.status) if lot else ""

    def on_hold(number):
        lot = lots.get(number)
        return bool(lot and lot.status == LotStatus.ON_HOLD)

    return {
        "record_number": receipt.record.number, "received_at": receipt.received_at,
        "source": "客户退货 Customer return", "related_party": case.customer.record_data(),
        "feedback_number": case.record.number,
        "anomaly_report": case.anomaly_report.record.number if hasattr(case, "anomaly_report") else None,
        "store_location": receipt.store_location, "acceptance_result": receipt.acceptance_result,
        "lines": [{"position": l.position, "product": _product(l.product), "specification": l.specification,
                   "unit": l.unit, "quantity": l.quantity, "lot_number": l.lot_number,
                   "lot_status": lot_status(l.lot_number), "lot_on_hold": on_hold(l.lot_number)}
                  for l in receipt.lines.select_related("product")],
        "total_quantity": receipt.total_quantity,
        "receiver": receipt.receiver.printed_name, "prepared_by": receipt.receiver.printed_name,
    }


def analysis_snapshot(analysis):
    return {
        "record_number": analysis.record.number,
        "period_start": analysis.period_start, "period_end": analysis.period_end,
        "trigger": analysis.trigger,
        "trigger_label": "定期 Scheduled" if analysis.trigger == "scheduled" else "按需 On demand",
        "compiled_by": analysis.compiled_by.printed_name, "compiled_at": analysis.compiled_at,
        **analysis.figures,
        "comment": analysis.comment,
        "approval": {"approver": analysis.approved_by.printed_name, "approved_at": analysis.approved_at}
        if analysis.approved_by_id else None,
    }


def snapshot_for_record(record):
    """Rebuild a P2 record's data from the working tables (verify_audit), or None."""
    if record.record_type == QUALITY_FEEDBACK.code:
        return feedback_snapshot(record.complaint_case)
    if record.record_type == ANOMALY_REPORT.code:
        return anomaly_snapshot(record.anomaly_report)
    if record.record_type == MATERIAL_RECEIPT.code:
        return receipt_snapshot(record.material_receipt)
    if record.record_type == COMPLAINT_ANALYSIS.code:
        return analysis_snapshot(record.complaint_analysis)
    return None


ZERO = Decimal("0")


def repeat_window_days():
    return int(settings.QMS.get("REPEAT_COMPLAINT_DAYS", 180))


# --- what the audit trail says P2 did, and the reasons its versions are stored with (core.diffs) -------------------

register_action_texts({
    "complaint.internal_reported": Sentence(
        _("opened a quality anomaly report from %(origin)s: %(defective)s of %(inspected)s defective, lot %(lot)s"),
        {"origin": "CaseOrigin", "defective": "number", "inspected": "number"}),
    "material.received": Sentence(_("received %(quantity)s of lot %(lot)s into stock"), {"quantity": "number"}),
    "material.issued": Sentence(_("issued %(quantity)s of lot %(lot)s to production"), {"quantity": "number"}),
    "complaint.registered": Sentence(_("registered a %(kind)s of %(quantity_affected)s pieces, lot %(lot)s"),
                                     {"kind": "ComplaintKind", "quantity_affected": "number"}),
    "lot.held": _("put the lot on hold"),
    "lot.hold_kept": _("kept the lot on hold (other open cases hold it)"),
    "lot.released": _("released the lot"),
    "lot.quantity_counted": _("counted the lot's quantity"),
    "complaint.inspected": Sentence(
        _("recorded the inspection: %(defective)s of %(inspected)s defective, grade %(grade)s"),
        {"defective": "number", "inspected": "number", "grade": "DefectGrade"}),
    "complaint.judged": Sentence(_("judged the case justified: %(justified)s"), {"justified": "bool"}),
    "complaint.outcome_recorded": Sentence(_("recorded the outcome with the customer: %(outcome)s"),
                                           {"outcome": "NegotiationOutcome"}),
    "complaint.goods_handed_over": Sentence(_("handed the goods over to %(to)s"), {"to": "Department"}),
    "complaint.goods_received": Sentence(_("received %(quantity)s pieces into %(store)s"), {"quantity": "number"}),
    "complaint.disposed": _("decided disposition revision %(revision)s"),
    "complaint.disposition_signed": Sentence(_("signed disposition revision %(revision)s: %(decision)s"),
                                             {"decision": "Meaning"}),
    "complaint.disposition_completed": _("completed disposition revision %(revision)s"),
    "complaint.customer_acceptance": Sentence(_("recorded the customer's acceptance: %(accepted)s"),
                                              {"accepted": "bool"}),
    "complaint.reinspected": Sentence(_("recorded the re-inspection: %(passed)s passed, %(failed)s failed"),
                                      {"passed": "number", "failed": "number"}),
    "complaint.capa_decided": Sentence(_("decided whether a corrective action is needed: %(capa_required)s"),
                                       {"capa_required": "bool"}),
    "complaint.closed": _("closed the case"),
    "complaint.follow_up_recorded": _("recorded the follow-up satisfaction: %(score)s"),
    "complaint_analysis.compiled": _("compiled the analysis of %(cases)s cases"),
    "complaint_analysis.approved": _("approved the analysis as management-review input"),
})
register_version_reasons({
    "complaint registered": _("complaint registered"),
    "inspection recorded": _("inspection recorded"),
    "internal anomaly reported": _("anomaly report opened from an internal inspection"),
    "justified": _("judged justified"),
    "not justified": _("judged not justified"),
    "goods handed over to Materials": _("goods handed over to Materials"),
    "goods received": _("goods received"),
    "customer acceptance recorded": _("customer's acceptance recorded"),
    "customer accepts the concession": _("the customer accepts the concession"),
    "customer refuses the concession": _("the customer refuses the concession"),
    "re-inspection recorded": _("re-inspection recorded"),
    "re-inspection passed": _("re-inspection passed"),
    "re-inspection failed": _("re-inspection failed"),
    "CAPA requested": _("corrective action requested"),
    "CAPA not needed": _("no corrective action needed"),
    "case closed": _("case closed"),
    "follow-up satisfaction recorded": _("follow-up satisfaction recorded"),
    "lot released": _("lot released"),
    "disposition complete": _("disposition complete"),
    "analysis compiled": _("analysis compiled"),
    "approved as management-review input": _("approved as management-review input"),
    "^outcome: (?P<outcome>[a-z_]+)$": Sentence(_("outcome: %(outcome)s"), {"outcome": "NegotiationOutcome"}),
    r"^received on (?P<number>\S+)$": _("received on %(number)s"),
    "^disposition rev. (?P<revision>[0-9]+)$": _("disposition revision %(revision)s"),
    "^disposition rev. (?P<revision>[0-9]+) (?P<status>[a-z_]+)$": Sentence(
        _("disposition revision %(revision)s: %(status)s"), {"status": "DispositionStatus"}),
    "^disposition rev. (?P<revision>[0-9]+): (?P<meaning>[a-z_]+) by (?P<signer>.*)$": Sentence(
        _("disposition revision %(revision)s: %(meaning)s by %(signer)s"), {"meaning": "Meaning"}),
})
