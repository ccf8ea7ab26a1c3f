"""P2's controlled records: the forms they are made on, their PDF templates, and the snapshots —
what a record version holds, built from the working tables by the actions and rebuilt by
verify_audit to find edits that went around them."""
from decimal import Decimal

from django.conf import settings

from accounts.models import Department, department_label, role_label
from core.i18n import english
from core.registry import RecordType, register, register_status_labels

from .models import (
    AnomalySource, ComplaintChannel, ComplaintKind, ComplaintStatus, CustomerRequest, DefectCategory, DefectGrade,
    DispositionCode, DispositionStatus, Lot, LotStatus, NcAction, NegotiationOutcome,
)


def role_label_of(key):
    """'management:manager' → '总经理 General Manager' (a disposition's signer keys)."""
    return role_label(*key.split(":"))


def _snapshot(record):
    return snapshot_for_record(record)  # defined below: the registry keeps this function, not its name


QUALITY_FEEDBACK = register(RecordType(
    code="quality_feedback", prefix="QF", title_zh="质量信息反馈单", title_en="Quality Information Feedback Form",
    form_code="QR-MK-003", form_revision="A/0", pdf_template="complaints/pdf/feedback_form.html", snapshot=_snapshot,
))
ANOMALY_REPORT = register(RecordType(
    code="anomaly_report", prefix="QAR", title_zh="品质异常处理报告", title_en="Quality Anomaly Handling Report",
    form_code="QR-QC-001", form_revision="A/0", pdf_template="complaints/pdf/anomaly_report.html", snapshot=_snapshot,
))
MATERIAL_RECEIPT = register(RecordType(
    code="material_receipt", prefix="MR", title_zh="物料入库单", title_en="Material Receipt",
    form_code="QR-MC-002", form_revision="A/0", pdf_template="complaints/pdf/material_receipt.html",
    copies=("财务 Finance", "市场 Market", "成品库 Finished-goods store"), snapshot=_snapshot,
))
COMPLAINT_ANALYSIS = register(RecordType(
    code="complaint_analysis", prefix="CRA", title_zh="客诉与退货分析", title_en="Complaint and Return Analysis",
    form_code="QR-MK-004", form_revision="A/0", pdf_template="complaints/pdf/complaint_analysis.html",
    snapshot=_snapshot,
))


def register_statuses():
    from .models import ComplaintStatus, DispositionStatus, LotStatus

    for choices in (ComplaintStatus, DispositionStatus, LotStatus):
        register_status_labels(choices)


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


def _photos(case, stage):
    return [{"name": p.original_name, "size": p.size, "sha256": p.sha256, "content_type": p.content_type}
            for p in case.photos.all() if p.stage == stage]


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
    return report.dispositions.order_by("-revision").first()


def feedback_snapshot(case):
    """质量信息反馈单 — the case as its record prints it."""
    report = getattr(case, "anomaly_report", None)
    receipt = getattr(case, "material_receipt", None)
    disposition = current_disposition(case)
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
        "photos": _photos(case, "intake"),
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
    }


def anomaly_snapshot(report):
    """品质异常处理报告 — the nonconformity record (NC-2, NC-6)."""
    case = report.case
    return {
        "record_number": report.record.number,
        "feedback_number": case.record.number,
        "source": report.source, "source_label": AnomalySource.bilingual_of(report.source),
        "customer": case.customer.record_data(),
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
        "photos": _photos(case, "inspection"),
        "causes": {"man": report.cause_man, "machine": report.cause_machine, "material": report.cause_material,
                   "method": report.cause_method, "environment": report.cause_environment,
                   "measurement": report.cause_measurement},
        "cause_summary": report.cause_summary, "interim_measure": report.interim_measure,
        "actions": [{"code": a, "label": NcAction.bilingual_of(a)} for a in report.actions],
        "inspector": report.inspector.printed_name, "inspected_at": report.inspected_at,
        "judgement": _judgement(case),
        "dispositions": [_disposition(d) for d in report.dispositions.prefetch_related(
            "lines", "signoffs__signer").select_related("decided_by").order_by("revision")],
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
