"""P4's controlled record, the revision approval record: the form it is made on and its PDF
template."""
from django.utils.translation import gettext_lazy as _

from core.registry import (
    RecordType, Sentence, register, register_action_texts, register_status_labels, register_version_reasons,
)

from .models import RevisionFile, RevisionStatus


def _revision_status(code):
    return RevisionStatus(code).label if code in RevisionStatus.values else code


def _file_kind(code):
    return RevisionFile.Kind(code).label if code in RevisionFile.Kind.values else code


# How the record page and the history API name the fields (the PDF's labels; core.diffs).
REVISION_LABELS = {
    "record_number": ("记录编号", "Record No."), "document": ("文件资料", "Document"),
    "document.number": ("文件编号", "Document No."), "document.title_zh": ("文件名称", "Title"),
    "document.title_en": ("英文名称", "Title (English)"), "document.type": ("文件类别", "Type"),
    "document.type_zh": None, "document.type_en": None, "document.owner_department": ("归口部门", "Owner"),
    "document.owner": None, "document.review_interval_months": ("定期评审（月）", "Periodic review (months)"),
    "document.retention_years": ("保存期限（年）", "Retention (years)"), "document.distribution": ("发放范围", "Distribution"),
    "document.external_issuer": ("外来文件发布方", "Issuer"), "document.language": ("语言", "Language"),
    "document.medium": ("载体", "Medium"), "revision": ("版次", "Revision"), "status": ("状态", "Status"),
    "withdrawal": ("作废文件", "Withdrawal"), "change_reason": ("变更原因", "Reason"),
    "raised_from": ("提出记录", "Raised by record"), "change_summary": ("变更内容", "What changed"),
    "effective_date": ("生效日期", "Effective date"), "author": ("编制", "Author"),
    "files": ("文件", "Files"), "files[]": ("{name}", "{name}"), "files[].kind": ("类别", "Kind"),
    "files[].name": ("文件名", "Name"),
    "files[].size": ("大小", "Size"),
    "reviews": ("会审", "Reviews"), "reviews[]": ("第 {round} 轮 · {department}", "Round {round} · {department}"),
    "reviews[].department_label": None, "reviews[].accepted": ("结论", "Verdict"), "reviews[].comment": ("意见", "Comment"),
    "reviews[].reviewer": ("评审人", "Reviewer"), "reviews[].reviewed_at": ("日期", "Date"),
    "approvals": ("会签批准", "Group approval"), "approvals[]": ("第 {round} 轮 · {approver}", "Round {round} · {approver}"),
    "approvals[].decision": ("结论", "Decision"), "approvals[].effective_date": ("生效日期", "Effective date"),
    "approvals[].comment": ("意见", "Comment"), "approvals[].signed_at": ("签署", "Signed"),
    "approved_by": ("批准", "Approved by"), "approved_at": ("批准时间", "Approved at"),
    "effective_at": ("生效于", "In force at"), "ended_at": ("停用于", "Ended at"),
}
REVISION_FORMATS = {
    "document.type": "DocumentType", "document.owner_department": "Department", "document.distribution": "Department",
    "status": _revision_status, "effective_date": "date", "files[].kind": _file_kind, "files[].size": "bytes",
    "reviews[].department": "Department", "approvals[].decision": "Meaning", "approvals[].effective_date": "date",
}

DOCUMENT_REVISION = register(RecordType(
    code="document_revision", prefix="DOC", title_zh="文件修订审批记录", title_en="Document Revision Approval Record",
    form_code="QR-QA-001", form_revision="A/0", pdf_template="procedures/pdf/document_revision.html",
    field_labels=REVISION_LABELS, field_formats=REVISION_FORMATS,
    list_keys={"files": "sha256", "reviews": ("round", "department"), "approvals": ("round", "approver")},
    state_fields=frozenset({"status"}),
))

# What the audit trail says P4 did, and the reasons its versions are stored with (core.diffs).
register_action_texts({
    "document.change_requested": _("requested a change of %(document)s (revision %(revision)s)"),
    "document.change_raised_from": _("raised a change of %(document)s from %(from)s"),
    "document.submitted": Sentence(_("submitted the revision for review (effective date %(effective_date)s)"),
                                   {"effective_date": "date"}),
    "document.change_abandoned": _("abandoned the change"),
    "document.reviewed": Sentence(_("reviewed for %(department)s in round %(round)s: accepted %(accepted)s"),
                                  {"department": "Department", "accepted": "bool"}),
    "document.approval_signed": Sentence(_("signed the group approval: %(decision)s"), {"decision": "Meaning"}),
    "document.decided": Sentence(_("decided: %(decision)s"), {"decision": "Meaning"}),
    "document.effective": _("made the revision effective"),
    "document.obsolete": _("made the document obsolete"),
    "document.superseded": _("marked the revision superseded by %(by)s"),
    "document.withdrawn": _("withdrew the revision (replaced by %(by)s)"),
    "document.distributed": Sentence(_("distributed the revision to %(users)s people, to acknowledge by %(due)s"),
                                     {"users": lambda users: len(users) if isinstance(users, list) else users,
                                      "due": "date"}),
    "document.acknowledged": _("acknowledged revision %(revision)s (read and understood)"),
    "document.acknowledgement_reminded": _("reminded a reader to acknowledge the revision"),
    "document.periodic_review": _("recorded the periodic review"),
    "document.downloaded": _("downloaded revision %(revision)s of %(document)s"),
})
register_version_reasons({
    "change requested": _("change requested"),
    "submitted for review": _("submitted for review"),
    "sent back to the author": _("sent back to the author"),
    "in force": _("in force"),
    "withdrawn": _("withdrawn"),
    "periodic review: no change": _("periodic review: no change"),
    "^reviewed by (?P<department>[a-z_]+)$": Sentence(_("reviewed by %(department)s"), {"department": "Department"}),
    r"^raised from (?P<number>\S+)$": _("raised from %(number)s"),
    "^abandoned: (?P<reason>.*)$": _("abandoned: %(reason)s"),
    "^rejected: (?P<reason>.*)$": _("rejected: %(reason)s"),
    r"^(?P<status>superseded|obsolete) by (?P<label>\S+)$": Sentence(
        _("%(status)s by %(label)s"), {"status": _revision_status}),
    r"^(?P<meaning>approved|rejected) by (?P<name>.*) \((?P<have>[0-9]+) of (?P<need>[0-9]+)\)$": Sentence(
        _("%(meaning)s by %(name)s (%(have)s of %(need)s)"), {"meaning": "Meaning"}),
})


def register_statuses():
    register_status_labels(RevisionStatus)
