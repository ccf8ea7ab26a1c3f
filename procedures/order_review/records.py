"""P1's controlled records: the forms they are made on, their PDF templates, and how
verify_audit rebuilds each from the working tables."""
from core.registry import RecordType, register, register_status_labels


def _snapshot(record):
    from .actions import snapshot_for_record  # actions import this module for the types

    return snapshot_for_record(record)


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
