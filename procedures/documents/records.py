"""P4's controlled record, the revision approval record: the form it is made on and its PDF
template."""
from core.registry import RecordType, register, register_status_labels

DOCUMENT_REVISION = register(RecordType(
    code="document_revision", prefix="DOC", title_zh="文件修订审批记录", title_en="Document Revision Approval Record",
    form_code="QR-QA-001", form_revision="A/0", pdf_template="procedures/pdf/document_revision.html",
))


def register_statuses():
    from .models import RevisionStatus

    register_status_labels(RevisionStatus)
