"""The controlled record types of the engine and the forms they are made on."""
from core.registry import RecordType, register, register_status_labels

ORDER_REVIEW = register(RecordType(
    code="order_review", prefix="OR", title_zh="订单评审记录表", title_en="Order Review Record Sheet",
    form_code="QR-MK-001", form_revision="A/0", pdf_template="forms/pdf/order_review.html",
))
CHANGE_NOTICE = register(RecordType(
    code="change_notice", prefix="CCN", title_zh="合同变更通知单", title_en="Contract Change Notice",
    form_code="QR-MK-002", form_revision="A/0", pdf_template="forms/pdf/change_notice.html",
))
PRODUCTION_PLAN = register(RecordType(
    code="production_plan", prefix="PP", title_zh="生产计划", title_en="Production / Work Plan",
    form_code="QR-MC-001", form_revision="A/0", pdf_template="forms/pdf/production_plan.html",
))

# P2 — complaints and returns


def _p2_snapshot(record):
    from .complaints import snapshot_for_record

    return snapshot_for_record(record)


QUALITY_FEEDBACK = register(RecordType(
    code="quality_feedback", prefix="QF", title_zh="质量信息反馈单", title_en="Quality Information Feedback Form",
    form_code="QR-MK-003", form_revision="A/0", pdf_template="forms/pdf/feedback_form.html", snapshot=_p2_snapshot,
))
ANOMALY_REPORT = register(RecordType(
    code="anomaly_report", prefix="QAR", title_zh="品质异常处理报告", title_en="Quality Anomaly Handling Report",
    form_code="QR-QC-001", form_revision="A/0", pdf_template="forms/pdf/anomaly_report.html", snapshot=_p2_snapshot,
))
MATERIAL_RECEIPT = register(RecordType(
    code="material_receipt", prefix="MR", title_zh="物料入库单", title_en="Material Receipt",
    form_code="QR-MC-002", form_revision="A/0", pdf_template="forms/pdf/material_receipt.html",
    copies=("财务 Finance", "市场 Market", "成品库 Finished-goods store"), snapshot=_p2_snapshot,
))
COMPLAINT_ANALYSIS = register(RecordType(
    code="complaint_analysis", prefix="CRA", title_zh="客诉与退货分析", title_en="Complaint and Return Analysis",
    form_code="QR-MK-004", form_revision="A/0", pdf_template="forms/pdf/complaint_analysis.html", snapshot=_p2_snapshot,
))

# P3 — corrective and preventive action (8D)


def _capa_snapshot(record):
    from .capa import snapshot_for_record

    return snapshot_for_record(record)


CAPA_REPORT = register(RecordType(
    code="capa_report", prefix="CA", title_zh="纠正预防措施报告", title_en="Corrective / Preventive Action Report (8D)",
    form_code="QR-QA-004", form_revision="A/0", pdf_template="forms/pdf/capa_report.html", snapshot=_capa_snapshot,
))


def _register_statuses():
    from .models import CapaStatus, OrderReviewStatus

    register_status_labels(OrderReviewStatus)
    register_status_labels(CapaStatus)


_register_statuses()
