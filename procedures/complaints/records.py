"""P2's controlled records: the forms they are made on, their PDF templates, and how
verify_audit rebuilds each from the working tables."""
from core.registry import RecordType, register, register_status_labels


def _snapshot(record):
    from .actions import snapshot_for_record  # actions import this module for the types

    return snapshot_for_record(record)


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
