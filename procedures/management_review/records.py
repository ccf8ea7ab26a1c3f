"""The controlled record of the management-review input pack (管理评审输入报告, QR-QA-005): its
form, PDF template, what its versions hold and how verify_audit rebuilds them."""
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.registry import (
    RecordType,
    Sentence,
    register,
    register_action_texts,
    register_status_labels,
    register_version_reasons,
)

from .models import ManagementReview, PackStatus, ReviewActionStatus, is_overdue


def _snapshot(record):
    return snapshot(record.management_review) if hasattr(record, "management_review") else None


def _pdf_context(version):
    """Which decided actions were overdue on the day of the version."""
    asof = timezone.localdate(version.created_at)
    return {"overdue": {a["position"] for a in version.data.get("actions", [])
                        if is_overdue(a["status"], a["due_date"], asof)}}


LABELS = {
    "record_number": ("编号", "No."), "period_start": ("期间开始", "Period from"), "period_end": ("期间结束", "Period to"),
    "trigger": ("编制方式", "Compiled"), "trigger_label": None, "compiled_by": ("编制", "Compiled by"),
    "compiled_at": ("编制时间", "Compiled at"), "status": ("状态", "Status"), "status_label": None,
    "figures": ("评审输入", "Inputs"), "figures.charts": None,
    "qm_signature": ("品质部经理", "Quality manager"), "gm_signature": ("总经理", "General Manager"),
    "conclusions": ("评审结论", "Conclusions"), "decided_by": ("记录人", "Recorded by"),
    "decided_at": ("记录时间", "Recorded at"),
    "actions": ("评审决定的措施", "Actions decided"), "actions[]": ("措施 {position}", "Action {position}"),
    "actions[].position": None, "actions[].owner_username": None, "actions[].status_label": None,
    "actions[].description": ("措施", "Action"), "actions[].owner": ("责任人", "Owner"),
    "actions[].due_date": ("完成日期", "Due"), "actions[].status": ("状态", "Status"),
    "actions[].note": ("完成情况", "What was done"), "actions[].done_at": ("完成", "Completed"),
}

MANAGEMENT_REVIEW = register(RecordType(
    code="management_review", prefix="MRV", title_zh="管理评审输入报告", title_en="Management Review Input Pack",
    form_code="QR-QA-005", form_revision="A/0", pdf_template="management_review/pdf/management_review.html",
    snapshot=_snapshot, pdf_context=_pdf_context, field_labels=LABELS,
    field_formats={"status": "PackStatus", "actions[].status": "ReviewActionStatus", "actions[].due_date": "date"},
    list_keys={"actions": "position"},
    # where the review stands and its actions' progress move on after the signatures
    state_fields=frozenset({"status", "actions[].status", "actions[].note", "actions[].done_at"}),
))


def register_statuses():
    register_status_labels(PackStatus)


def _signature(user, moment, comment):
    return {"signer": user.printed_name, "at": moment, "comment": comment} if user is not None else None


def snapshot(review: ManagementReview):
    """The record's data, from the working tables: the frozen figures, signatures, decisions."""
    return {
        "record_number": review.record.number,
        "period_start": review.period_start, "period_end": review.period_end,
        "trigger": review.trigger,
        "trigger_label": "定期 Scheduled" if review.trigger == "scheduled" else "按需 On demand",
        "compiled_by": review.compiled_by.printed_name, "compiled_at": review.compiled_at,
        "status": review.status, "status_label": PackStatus.bilingual_of(review.status),
        "figures": review.figures,
        "qm_signature": _signature(review.qm_signed_by, review.qm_signed_at, review.qm_comment),
        "gm_signature": _signature(review.gm_signed_by, review.gm_signed_at, review.gm_comment),
        "conclusions": review.conclusions,
        "decided_by": review.decided_by.printed_name if review.decided_by_id else "",
        "decided_at": review.decided_at,
        "actions": [{"position": a.position, "description": a.description, "owner": a.owner.printed_name,
                     "owner_username": a.owner.username, "due_date": a.due_date, "status": a.status,
                     "status_label": ReviewActionStatus.bilingual_of(a.status), "note": a.note,
                     "done_at": a.done_at}
                    for a in review.actions.select_related("owner").order_by("position", "pk")],
    }


register_action_texts({
    "management_review.compiled": _("compiled the management-review input pack"),
    "management_review.signed_by_quality_manager": _("signed the input pack as Quality manager"),
    "management_review.signed_by_general_manager": _("signed the input pack as General Manager"),
    "management_review.decisions_recorded": Sentence(_("recorded the review's decisions: %(actions)s actions")),
    "management_review.action_done": _("marked a review action done"),
})

register_version_reasons({
    "input pack compiled": _("input pack compiled"),
    "signed by the Quality manager": _("signed by the Quality manager"),
    "signed by the General Manager": _("signed by the General Manager"),
    "decisions recorded": _("decisions recorded"),
    "^action (?P<position>[0-9]+) done$": _("action %(position)s done"),
})
