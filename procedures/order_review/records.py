"""P1's controlled records: the forms they are made on, their PDF templates, and the snapshots —
what a record version holds, built from the working tables by the actions and rebuilt by
verify_audit to find edits that went around them."""
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import DEPARTMENT_NAMES_ZH, Department
from core.i18n import english
from procedures.requirements import entry as p5
from core.registry import (
    RecordType, Sentence, register, register_action_texts, register_status_labels, register_version_reasons,
)

from .models import (
    ChangeCategory, ChangeNoticeStatus, OrderReviewStatus, PlanStatus, RequirementCategory, Verdict,
)


def _snapshot(record):
    return snapshot_for_record(record)  # defined below: the registry keeps this function, not its name


# --- how the record page and the history API name the fields (the PDFs' labels; core.diffs) -----------------

CUSTOMER_LABELS = {
    "customer": ("客户", "Customer"), "customer.name_zh": ("中文名称", "Name (Chinese)"),
    "customer.name_en": ("英文名称", "Name (English)"), "customer.code": ("客户代码", "Customer code"),
    "customer.address": ("地址", "Address"), "customer.contact": ("联系人", "Contact"),
    "customer.phone": ("电话", "Phone"),
}


def line_labels(prefix):
    """The labels of a product line table (_lines.html) at `prefix` ("lines", "before", …)."""
    return {
        f"{prefix}[]": ("第 {} 行", "Line {}"), f"{prefix}[].position": ("序号", "No."),
        f"{prefix}[].product_code": ("产品代码", "Product code"), f"{prefix}[].product_name_zh": ("产品名称", "Product"),
        f"{prefix}[].product_name_en": ("产品英文名称", "Product (English)"),
        f"{prefix}[].specification": ("规格", "Specification"), f"{prefix}[].quantity": ("数量", "Qty"),
        f"{prefix}[].unit": ("单位", "Unit"), f"{prefix}[].unit_price": ("单价", "Unit price"),
        f"{prefix}[].packaging": ("包装", "Packaging"), f"{prefix}[].delivery_date": ("交期", "Delivery"),
    }


def line_formats(prefix):
    return {f"{prefix}[].quantity": "number", f"{prefix}[].unit_price": "number", f"{prefix}[].delivery_date": "date"}


ORDER_REVIEW_LABELS = {
    "record_number": ("记录编号", "Record No."), **CUSTOMER_LABELS,
    "order_number": ("订单号", "Order No."), "kind": ("类别", "Kind"), "order_date": ("订单日期", "Order date"),
    "review_method": ("评审方式", "Review method"), "is_sample": ("样品订单", "Sample order"),
    "sample_rule": ("样品判定", "Sample rule"), "verbal": ("口头订单", "Verbal order"),
    "verbal_confirmation": ("口头确认", "Verbal confirmation"), "payment_terms": ("付款条件", "Payment terms"),
    "delivery_place": ("交货地点", "Delivery place"), "transport": ("包装运输", "Packaging / transport"),
    "special_requirements": ("特殊要求", "Special requirements"),
    "implied_requirements": ("隐含要求", "Unstated but needed requirements"),
    "statutory_requirements": ("法律法规要求", "Statutory / regulatory"),
    "company_requirements": ("公司自身要求", "The company's own requirements"),
    "meeting_attendees": ("参会人员", "Meeting attendees"), "meeting_minutes": ("会议纪要", "Meeting minutes"),
    "after_delivery_requirements": ("交付及交付后要求", "Delivery / after-delivery"),
    "quote_reference": ("报价单", "Quotation"), "quote_differences": ("与报价差异", "Differences from quotation"),
    "differences_resolution": ("差异处理", "Resolution"),
    "lines": ("产品明细", "Line items"), **line_labels("lines"),
    "attachments": ("附件", "Attachments"), "attachments[]": ("附件 {name}", "Attachment {name}"),
    "attachments[].name": ("文件名", "File name"), "attachments[].size": ("大小", "Size"),
    "attachments[].sha256": ("SHA-256", "SHA-256"),
    "total_amount": ("合计金额", "Total amount"), "revision": ("修订", "Revision"), "status": ("状态", "Status"),
    "rounds": ("部门评审意见", "Department opinions"), "rounds[]": ("第 {} 轮评审", "Review round {}"),
    "rounds[].number": ("轮次", "Round"), "rounds[].departments": ("参与评审部门", "Departments asked"),
    "rounds[].change_notice": ("变更通知", "Change notice"),
    "rounds[].reviews": ("", ""),  # "第 1 轮评审 › 品质部 › 意见" "rounds[].reviews[].department": ("部门", "Department"),
    "rounds[].reviews[].department_zh": None, "rounds[].reviews[].department_en": None,
    "rounds[].reviews[].verdict": ("结论", "Verdict"), "rounds[].reviews[].verdict_zh": None,
    "rounds[].reviews[].verdict_en": None, "rounds[].reviews[].comment": ("意见", "Comment"),
    "rounds[].reviews[].material_readiness": ("物料", "Material"),
    "rounds[].reviews[].categories": ("要求类别评审", "Requirement categories"),
    **{f"rounds[].reviews[].categories.{c.value}": (c.zh, c.en) for c in RequirementCategory},
    "rounds[].reviews[].market_opinion": ("业务意见", "Market's opinion"),
    "rounds[].reviews[].market_opinion.delivery_date": ("交期", "Delivery date"),
    "rounds[].reviews[].market_opinion.unit_price": ("单价", "Unit price"),
    "rounds[].reviews[].market_opinion.packaging": ("包装", "Packaging"),
    "rounds[].reviews[].reviewer": ("评审人", "Reviewer"), "rounds[].reviews[].reviewed_at": ("日期", "Date"),
    "rounds[].reviews[].csr_addressed": ("顾客特殊要求的满足", "Customer-specific requirements addressed"),
    "customer_specific_requirements": ("顾客特殊要求", "Customer-specific requirements"),
    "customer_specific_requirements[]": ("{}", "{}"),
    "customer_specific_requirements[].number": ("需求编号", "Requirement"),
    "customer_specific_requirements[].words": ("要求", "Requirement text"),
    "conclusion": ("评审结论", "Conclusion"), "declined_reason": ("不接受原因", "Declined reason"),
    "approval": ("批准", "Approval"), "approval.decision": ("批准决定", "Decision"),
    "approval.approver": ("批准人", "Approver"), "approval.approved_at": ("批准日期", "Date"),
}
ORDER_REVIEW_FORMATS = {
    "kind": "OrderKind", "order_date": "date", "review_method": "ReviewMethod", "sample_rule": "SampleRule",
    **line_formats("lines"), "attachments[].size": "bytes", "total_amount": "number",
    "status": "OrderReviewStatus",
    "rounds[].departments": "Department", "rounds[].reviews[].department": "Department",
    "rounds[].reviews[].verdict": "Verdict", "rounds[].reviews[].material_readiness": "MaterialReadiness",
    **{f"rounds[].reviews[].categories.{c.value}": "CategoryAnswer" for c in RequirementCategory},
    "approval.decision": "Meaning",
}
ORDER_REVIEW_KEYS = {"lines": "position", "attachments": "sha256", "rounds": "number", "rounds[].reviews": "department",
                     "customer_specific_requirements": "number"}

CHANGE_NOTICE_LABELS = {
    "record_number": ("记录编号", "Record No."), **CUSTOMER_LABELS,
    "order_record_number": ("订单评审记录", "Order review record"), "order_number": ("订单号", "Order No."),
    "original_order_date": ("原订单日期", "Original order date"), "change_date": ("变更日期", "Change date"),
    "category": ("变更类别", "Category"), "category_zh": None, "category_en": None, "status": ("状态", "Status"),
    "customer_confirmed": ("客户确认", "Customer confirmed"), "after_approval": ("批准后变更", "After approval"),
    "reason": ("变更原因", "Reason for change"),
    "before": ("变更前", "Before"), **line_labels("before"), "after": ("变更后", "After"), **line_labels("after"),
    "affected_departments": ("受影响部门", "Affected departments"),
    "receipts": ("接收签收", "Receipt by the departments concerned"), "receipts[].department": ("部门", "Department"),
    "receipts[].department_zh": None, "receipts[].department_en": None,
    "receipts[].receiver": ("接收人", "Receiver"), "receipts[].received_at": ("签收时间", "Received at"),
    "receipts[].comment": ("备注", "Comment"),
}
CHANGE_NOTICE_FORMATS = {
    "original_order_date": "date", "change_date": "date", "category": "ChangeCategory",
    "status": "ChangeNoticeStatus", **line_formats("before"), **line_formats("after"),
    "affected_departments": "Department", "receipts[].department": "Department",
}
CHANGE_NOTICE_KEYS = {"before": "position", "after": "position", "receipts": "department"}

PRODUCTION_PLAN_LABELS = {
    "record_number": ("记录编号", "Record No."), **CUSTOMER_LABELS,
    "order_record_number": ("订单评审记录", "Order review record"), "order_number": ("订单号", "Order No."),
    "order_revision": ("订单修订", "Order revision"), "planned_start": ("计划开工", "Planned start"),
    "planned_finish": ("计划完工", "Planned finish"), "material_readiness": ("物料状况", "Material readiness"),
    "author": ("编制", "Author"), "lines": ("生产明细", "Lines to produce"), **line_labels("lines"),
    "notes": ("备注", "Notes"), "status": ("状态", "Status"), "superseded_by": ("被取代于", "Superseded by"),
}
PRODUCTION_PLAN_FORMATS = {"planned_start": "date", "planned_finish": "date",
                           "material_readiness": "MaterialReadiness", **line_formats("lines")}


ORDER_REVIEW = register(RecordType(
    code="order_review", prefix="OR", title_zh="订单评审记录表", title_en="Order Review Record Sheet",
    form_code="QR-MK-001", form_revision="A/0", pdf_template="order_review/pdf/order_review.html",
    snapshot=_snapshot, field_labels=ORDER_REVIEW_LABELS, field_formats=ORDER_REVIEW_FORMATS,
    list_keys=ORDER_REVIEW_KEYS, state_fields=frozenset({"status"}),
))
CHANGE_NOTICE = register(RecordType(
    code="change_notice", prefix="CCN", title_zh="合同变更通知单", title_en="Contract Change Notice",
    form_code="QR-MK-002", form_revision="A/0", pdf_template="order_review/pdf/change_notice.html",
    snapshot=_snapshot, field_labels=CHANGE_NOTICE_LABELS, field_formats=CHANGE_NOTICE_FORMATS,
    list_keys=CHANGE_NOTICE_KEYS, state_fields=frozenset({"status"}),
))
PRODUCTION_PLAN = register(RecordType(
    code="production_plan", prefix="PP", title_zh="生产计划", title_en="Production / Work Plan",
    form_code="QR-MC-001", form_revision="A/0", pdf_template="order_review/pdf/production_plan.html",
    snapshot=_snapshot, field_labels=PRODUCTION_PLAN_LABELS, field_formats=PRODUCTION_PLAN_FORMATS,
    list_keys={"lines": "position"},
    # a later plan supersedes it (after a change): a state change, not an edit of the signed plan
    state_fields=frozenset({"status", "superseded_by"}),
))
# 合同台账 QR-MK-003 printed: a frozen listing of the ledger (the ledger itself moves on), so no snapshot
CONTRACT_LEDGER = register(RecordType(
    code="contract_ledger", prefix="CL", title_zh="合同台账", title_en="Contract Ledger",
    form_code="QR-MK-003", form_revision="A/0", pdf_template="order_review/pdf/contract_ledger.html",
))


NEGOTIATION_OUTCOMES = {"change": _("the customer accepts a change"),
                        "conditions_accepted": _("the customer accepts the stated conditions"),
                        "declined": _("the order is declined")}

# What the audit trail says P1 did (core.diffs): the new values fill the placeholders.
register_action_texts({
    "order_review.received": _("registered order %(order_number)s (%(lines)s lines)"),
    "order_review.department_reviewed": Sentence(
        _("recorded the review of %(department)s in round %(round)s: %(verdict)s"),
        {"department": "Department", "verdict": "Verdict"}),
    "order_review.negotiated": Sentence(_("recorded the negotiation: %(outcome)s"),
                                        {"outcome": lambda code: NEGOTIATION_OUTCOMES.get(code, code)}),
    "order_review.decided": Sentence(_("decided: %(decision)s"), {"decision": "Meaning"}),
    "ledger.entered": _("entered contract %(contract_number)s in the contract ledger"),
    "ledger.revised": _("revised the contract ledger entry"),
    "ledger.shipment_recorded": _("recorded shipment %(delivery_note)s of contract %(contract_number)s: "
                                  "%(quantity)s of %(product)s, lot %(lot_number)s"),
    "ledger.printed": _("printed the contract ledger (%(lines)s lines)"),
    "change_notice.issued": Sentence(_("issued the change notice for %(order)s (%(category)s)"),
                                     {"category": "ChangeCategory"}),
    "change_notice.acknowledged": Sentence(_("acknowledged the change notice for %(department)s"),
                                           {"department": "Department"}),
    "production_plan.written": _("wrote the production plan for %(order)s (%(start)s to %(finish)s)"),
    "production_plan.superseded": _("marked the production plan superseded by %(superseded_by)s"),
})
# The reasons P1's record versions are stored with, in the reader's language.
register_version_reasons({
    "order received": _("order received"),
    "reviews complete": _("all reviews in"),
    "change notice issued": _("change notice issued"),
    "plan written": _("plan written"),
    r"^superseded by (?P<number>\S+)$": _("superseded by %(number)s"),
    "ledger printed": _("ledger printed"),
    "approved": Sentence(_("approved")),
    "rejected": Sentence(_("rejected")),
    "declined": Sentence(_("declined")),
    "^(?P<department>[a-z_]+) review, round (?P<round>[0-9]+)$": Sentence(
        _("%(department)s review, round %(round)s"), {"department": "Department"}),
    "^negotiation: (?P<outcome>[a-z_]+)$": Sentence(
        _("negotiation: %(outcome)s"), {"outcome": lambda code: NEGOTIATION_OUTCOMES.get(code, code)}),
    r"^change notice (?P<number>\S+): (?P<reason>.*)$": _("change notice %(number)s: %(reason)s"),
    "^received by (?P<department>[a-z_]+)$": Sentence(_("received by %(department)s"), {"department": "Department"}),
    "^(?P<meaning>approved|rejected): (?P<conclusion>.*)$": Sentence(
        _("%(meaning)s: %(conclusion)s"), {"meaning": "Meaning"}),
    r"^change (?P<number>\S+) (?P<status>[a-z_]+); order stands as approved$": Sentence(
        _("change %(number)s %(status)s; the order stands as approved"), {"status": "ChangeNoticeStatus"}),
})


def register_statuses():
    register_status_labels(OrderReviewStatus)
    register_status_labels(ChangeNoticeStatus, record_types=[CHANGE_NOTICE.code])
    # a production plan is issued, then superseded by the next; a printed contract ledger is issued, and stays so
    register_status_labels(PlanStatus, record_types=[PRODUCTION_PLAN.code, CONTRACT_LEDGER.code])


def _line(line):
    return {"position": line.position, "product_code": line.product.code, "product_name_zh": line.product.name_zh,
            "product_name_en": line.product.name_en, "specification": line.specification,
            "quantity": line.quantity, "unit": line.unit, "unit_price": line.unit_price,
            "packaging": line.packaging, "delivery_date": line.delivery_date}


def review_row_data(row, statements=None):
    """One department's review as the record holds it (also for a row not saved yet: the version
    the reviewer signs already shows it). `statements`: {(round, department): how the order
    addresses the customer's specific requirements} (CR-4), read when not given."""
    if statements is None:
        statements = p5.customer_specific_statements(row.round.order_review.record)
    statement = statements.get((row.round.number, row.department))
    return {
        "department": row.department, "department_zh": Department(row.department).zh,
        "department_en": english(Department(row.department).label), "verdict": row.verdict,
        "verdict_zh": Verdict(row.verdict).zh, "verdict_en": english(Verdict(row.verdict).label),
        "comment": row.comment, "material_readiness": row.material_readiness,
        **({"categories": row.categories} if row.categories else {}),
        **({"market_opinion": row.market_opinion} if row.market_opinion else {}),
        "reviewer": row.reviewer.printed_name, "reviewed_at": row.reviewed_at,
        **({"csr_addressed": statement} if statement else {}),
    }


def review_rounds(review):
    """The review's rounds, oldest first, with their change notices and department reviews."""
    return list(review.rounds.select_related("change_notice__record").prefetch_related("reviews__reviewer")
                .order_by("number"))


def order_review_snapshot(review, statements=None, csrs=None, rounds=None):
    """The order review record's data. `statements` as for review_row_data, `csrs` the frozen customer-
    specific requirements (p5.frozen_customer_specific_requirements), `rounds` as review_rounds
    returns them; each read when not given."""
    lines = review.lines_with_products()
    if statements is None:
        statements = p5.customer_specific_statements(review.record)
    if csrs is None:
        csrs = p5.frozen_customer_specific_requirements(review.record)
    round_rows, rounds = review_rounds(review) if rounds is None else rounds, []
    for rnd in round_rows:
        rounds.append({
            "number": rnd.number,
            "departments": rnd.departments,
            "change_notice": rnd.change_notice.record.number if rnd.change_notice else None,
            "reviews": [review_row_data(r, statements) for r in rnd.reviews.all()],
        })
    limit = settings.QMS["SAMPLE_MAX_QUANTITY"]
    return {
        "record_number": review.record.number,
        "kind": review.kind,
        "customer": review.customer.record_data(),
        "order_number": review.order_number,
        "order_date": review.order_date,
        "verbal": review.verbal,
        "verbal_confirmation": review.verbal_confirmation,
        "payment_terms": review.payment_terms,
        "delivery_place": review.delivery_place,
        "transport": review.transport,
        "special_requirements": review.special_requirements,
        "implied_requirements": review.implied_requirements,
        "statutory_requirements": review.statutory_requirements,
        **({"company_requirements": review.company_requirements} if review.company_requirements else {}),
        "after_delivery_requirements": review.after_delivery_requirements,
        "quote_reference": review.quote_reference,
        "quote_differences": review.quote_differences,
        "differences_resolution": review.differences_resolution,
        "is_sample": review.sample_override if review.sample_override is not None
        else bool(lines) and all(line.quantity <= limit for line in lines),
        "sample_rule": "reviewers" if review.sample_override is not None else "quantity",
        "review_method": review.review_method,
        **({"meeting_attendees": review.meeting_attendees, "meeting_minutes": review.meeting_minutes}
           if review.meeting_attendees or review.meeting_minutes else {}),
        "lines": [_line(line) for line in lines],
        "attachments": [{"name": a.original_name, "size": a.size, "sha256": a.sha256}
                        for a in review.attachments.all()],
        "total_amount": sum(((l.unit_price or 0) * l.quantity for l in lines), 0),
        "revision": review.revision,
        "status": review.status,
        "rounds": rounds,
        "conclusion": review.conclusion,
        "declined_reason": review.declined_reason,
        "approval": {"approver": review.approved_by.printed_name, "approved_at": review.approved_at,
                     "decision": "approved"} if review.approved_by_id else None,
        # CR-4: the customer's specific requirements in force when the order was received (frozen)
        **({"customer_specific_requirements": [{"number": n, "words": w} for n, w in csrs]} if csrs else {}),
    }


def change_notice_snapshot(notice):
    review = notice.order_review
    return {
        "record_number": notice.record.number, "order_record_number": review.record.number,
        "order_number": review.order_number, "customer": review.customer.record_data(),
        "original_order_date": review.order_date, "change_date": notice.issued_at or timezone.now(),
        "category": notice.category, "category_en": english(ChangeCategory(notice.category).label),
        "category_zh": ChangeCategory(notice.category).zh,
        "reason": notice.reason, "before": notice.before, "after": notice.after,
        "affected_departments": notice.affected_departments, "customer_confirmed": notice.customer_confirmed,
        "after_approval": notice.after_approval, "status": notice.status,
        "receipts": [{"department": r.department, "department_zh": DEPARTMENT_NAMES_ZH[r.department],
                      "department_en": english(Department(r.department).label), "receiver": r.receiver.printed_name,
                      "received_at": r.received_at, "comment": r.comment}
                     for r in notice.receipts.select_related("receiver")] if notice.pk else [],
    }


def production_plan_snapshot(plan):
    review = plan.order_review
    return {
        "record_number": plan.record.number, "order_record_number": review.record.number,
        "order_number": review.order_number, "order_revision": plan.order_revision,
        # the lines the plan was written for, kept on the plan: a later change to the order does not
        # rewrite it (it is superseded by the plan written after the change)
        "customer": review.customer.record_data(), "lines": plan.lines,
        "planned_start": plan.planned_start, "planned_finish": plan.planned_finish,
        "material_readiness": plan.material_readiness, "notes": plan.notes, "author": plan.author.printed_name,
        **({"status": plan.status,
            "superseded_by": plan.superseded_by.record.number if plan.superseded_by_id else None}
           if plan.status != "issued" else {}),
    }


def snapshot_for_record(record):
    """Registry hook: rebuild a record's data from the working tables (verify_audit)."""
    if record.record_type == ORDER_REVIEW.code:
        return order_review_snapshot(record.order_review)
    if record.record_type == CHANGE_NOTICE.code:
        return change_notice_snapshot(record.change_notice)
    if record.record_type == PRODUCTION_PLAN.code:
        return production_plan_snapshot(record.production_plan)
    return None


def ledger_row_data(entry):
    """One contract ledger line as the API, the exports and the printed ledger give it (every revision
    with its change notice and old → new values, every shipment)."""
    return {
        "id": entry.pk, "contract_number": entry.contract_number, "kind": entry.kind,
        "order_record_number": entry.order_review.record.number, "customer": entry.customer_name,
        "customer_code": entry.order_review.customer.code, "status": entry.status,
        "signed_date": entry.signed_date, "delivery_date": entry.delivery_date, "total_amount": entry.total_amount,
        "ordered_quantity": entry.ordered_quantity, "shipped_quantity": entry.shipped_quantity,
        "open_quantity": entry.open_quantity, "revision": entry.revision, "remarks": entry.remarks,
        "revisions": [{"revision": r.revision, "date": r.created_at,
                       "change_notice": r.change_notice.record.number if r.change_notice_id else None,
                       "category": r.change_notice.category if r.change_notice_id else None,
                       "summary": r.summary, "changes": r.changes} for r in entry.revisions.all()],
        "shipments": [{"id": s.pk, "shipped_on": s.shipped_on, "product": s.product.code, "quantity": s.quantity,
                       "lot_number": s.lot_number, "delivery_note": s.delivery_note, "remarks": s.remarks,
                       "recorded_by": s.recorded_by.printed_name, "recorded_at": s.recorded_at}
                      for s in entry.shipments.all()],
    }


def ledger_listing(rows, *, filters, actor):
    """The data of a printed contract ledger (QR-MK-003): the filters it was printed with, who printed
    it and when, and its lines (ledger_row_data)."""
    return {"printed_by": actor.printed_name, "printed_at": timezone.now(),
            "filters": {k: v for k, v in filters.items() if v},
            "rows": [ledger_row_data(entry) for entry in rows]}
