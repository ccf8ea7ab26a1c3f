"""P1's controlled records: the forms they are made on, their PDF templates, and the snapshots —
what a record version holds, built from the working tables by the actions and rebuilt by
verify_audit to find edits that went around them."""
from django.conf import settings
from django.utils import timezone

from accounts.models import DEPARTMENT_NAMES_ZH, Department
from core.i18n import english
from core.registry import RecordType, register, register_status_labels

from .models import VERDICT_ZH, Verdict


def _snapshot(record):
    return snapshot_for_record(record)  # defined below: the registry keeps this function, not its name


ORDER_REVIEW = register(RecordType(
    code="order_review", prefix="OR", title_zh="订单评审记录表", title_en="Order Review Record Sheet",
    form_code="QR-MK-001", form_revision="A/0", pdf_template="order_review/pdf/order_review.html",
    snapshot=_snapshot,
))
CHANGE_NOTICE = register(RecordType(
    code="change_notice", prefix="CCN", title_zh="合同变更通知单", title_en="Contract Change Notice",
    form_code="QR-MK-002", form_revision="A/0", pdf_template="order_review/pdf/change_notice.html",
    snapshot=_snapshot,
))
PRODUCTION_PLAN = register(RecordType(
    code="production_plan", prefix="PP", title_zh="生产计划", title_en="Production / Work Plan",
    form_code="QR-MC-001", form_revision="A/0", pdf_template="order_review/pdf/production_plan.html",
    snapshot=_snapshot,
))


def register_statuses():
    from .models import OrderReviewStatus

    register_status_labels(OrderReviewStatus)


def _line(line):
    return {"position": line.position, "product_code": line.product.code, "product_name_zh": line.product.name_zh,
            "product_name_en": line.product.name_en, "specification": line.specification,
            "quantity": line.quantity, "unit": line.unit, "unit_price": line.unit_price,
            "packaging": line.packaging, "delivery_date": line.delivery_date}


def order_review_snapshot(review):
    lines = list(review.lines.select_related("product"))
    rounds = []
    for rnd in review.rounds.select_related("change_notice__record").prefetch_related("reviews__reviewer"):
        rounds.append({
            "number": rnd.number,
            "departments": rnd.departments,
            "change_notice": rnd.change_notice.record.number if rnd.change_notice else None,
            "reviews": [{
                "department": r.department, "department_zh": DEPARTMENT_NAMES_ZH[r.department],
                "department_en": english(Department(r.department).label), "verdict": r.verdict,
                "verdict_zh": VERDICT_ZH[r.verdict], "verdict_en": english(Verdict(r.verdict).label),
                "comment": r.comment, "material_readiness": r.material_readiness,
                "reviewer": r.reviewer.printed_name, "reviewed_at": r.reviewed_at,
            } for r in rnd.reviews.all()],
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
        "after_delivery_requirements": review.after_delivery_requirements,
        "quote_reference": review.quote_reference,
        "quote_differences": review.quote_differences,
        "differences_resolution": review.differences_resolution,
        "is_sample": review.sample_override if review.sample_override is not None
        else bool(lines) and all(line.quantity <= limit for line in lines),
        "sample_rule": "reviewers" if review.sample_override is not None else "quantity",
        "review_method": review.review_method,
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
    }


def change_notice_snapshot(notice):
    from procedures.order_review.models import ChangeCategory

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
        "customer": review.customer.record_data(), "lines": [_line(l) for l in review.lines.select_related("product")],
        "planned_start": plan.planned_start, "planned_finish": plan.planned_finish,
        "material_readiness": plan.material_readiness, "notes": plan.notes, "author": plan.author.printed_name,
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
