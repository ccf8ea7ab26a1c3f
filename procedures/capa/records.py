"""P3's controlled record, the 8D report: the form it is made on, its PDF template, and how
verify_audit rebuilds it from the working tables."""
from core.registry import RecordType, register, register_status_labels


def _snapshot(record):
    from .actions import snapshot_for_record  # actions import this module for the types

    return snapshot_for_record(record)


CAPA_REPORT = register(RecordType(
    code="capa_report", prefix="CA", title_zh="纠正预防措施报告", title_en="Corrective / Preventive Action Report (8D)",
    form_code="QR-QA-004", form_revision="A/0", pdf_template="capa/pdf/capa_report.html", snapshot=_snapshot,
))


def register_statuses():
    from .models import CapaStatus

    register_status_labels(CapaStatus)
