from core.registry import RecordType, register

DOCUMENT_REVISION = register(RecordType(
    code="document_revision", prefix="DOC", title_zh="文件修订审批记录", title_en="Document Revision Approval Record",
    form_code="QR-QA-001", form_revision="A/0", pdf_template="procedures/pdf/document_revision.html",
))
