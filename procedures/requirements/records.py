"""P5's controlled record, the customer requirement review form (顾客需求评审表), and its
snapshot: what a record version holds, built from the working tables by the actions and
rebuilt by verify_audit to find edits that went around them."""
from django.utils.translation import gettext_lazy as _

from accounts.models import DEPARTMENT_NAMES_ZH, Department
from core.i18n import english
from core.registry import (
    RecordType,
    Sentence,
    register,
    register_action_texts,
    register_status_labels,
    register_version_reasons,
)

from .models import RequirementStatus


def _snapshot(record):
    return snapshot_for_record(record)


LABELS = {
    "record_number": ("记录编号", "Record No."), "customer_code": ("客户代码", "Customer code"),
    "customer_name": ("客户", "Customer"), "potential_customer": ("潜在客户", "Potential customer"),
    "channel": ("收集渠道", "Channel"), "requirement_type": ("需求类型", "Type"),
    "product_code": ("产品代码", "Product code"), "product": ("产品/服务", "Product / service"),
    "received_on": ("收集日期", "Received on"), "customer_words": ("客户原话", "Customer's words"),
    "meaning": ("对公司的含义", "What it means for us"), "duplicate_of": ("重复于", "Duplicate of"),
    "importance": ("重要度", "Importance"), "urgency": ("紧急度", "Urgency"), "score": ("得分", "Score"),
    "priority": ("优先级", "Priority class"), "kano_category": ("KANO 分类", "KANO category"),
    "feasibility": ("可行性", "Feasibility"),
    "changes_product_or_process": ("变更产品或过程", "Changes a product or process"),
    "review_departments": ("评审部门", "Reviewing departments"),
    "links": ("关联需求", "Linked requirements"), "links[]": ("关联 {}", "Link {}"),
    "links[].kind": ("关系", "Relation"), "links[].number": ("需求编号", "Requirement"),
    "links[].note": ("说明", "Note"),
    "reviews": ("部门评审", "Department reviews"), "reviews[]": ("{}", "{}"),
    "reviews[].department": ("部门", "Department"), "reviews[].department_zh": None, "reviews[].department_en": None,
    "reviews[].verdict": ("结论", "Verdict"), "reviews[].comment": ("意见", "Comment"),
    "reviews[].reviewer": ("评审人", "Reviewer"), "reviews[].reviewed_at": ("日期", "Date"),
    "status": ("状态", "Status"), "decision": ("批准决定", "Decision"),
    "decision_reason": ("批准结论", "Approval conclusion"), "approver": ("批准人", "Approver"),
    "decided_at": ("批准日期", "Decided at"), "customer_acceptance": ("客户认可", "Customer's acceptance"),
    "owner": ("责任人", "Owner"), "due_date": ("完成期限", "Due date"), "progress": ("进展", "Progress"),
    "fulfilment": ("是否满足", "Was it met?"), "evidence": ("证据", "Evidence"),
    "answer_date": ("回复日期", "Answer date"), "answer_channel": ("回复方式", "Answer channel"),
    "answer_content": ("回复内容", "Answer to the customer"),
}
FORMATS = {
    "channel": "RequirementChannel", "requirement_type": "RequirementType", "received_on": "date",
    "priority": "PriorityClass", "kano_category": "KanoCategory", "review_departments": "Department",
    "links[].kind": "LinkKind", "reviews[].department": "Department", "reviews[].verdict": "FeasibilityVerdict",
    "status": "RequirementStatus", "decision": "Meaning", "due_date": "date", "fulfilment": "Fulfilment",
    "answer_date": "date", "answer_channel": "AnswerChannel",
}

CUSTOMER_REQUIREMENT = register(RecordType(
    code="customer_requirement", prefix="CR", title_zh="顾客需求评审表", title_en="Customer Requirement Review Form",
    form_code="QR-MK-005", form_revision="A/0", pdf_template="requirements/pdf/customer_requirement.html",
    snapshot=_snapshot, field_labels=LABELS, field_formats=FORMATS,
    list_keys={"reviews": "department", "links": "number"}, state_fields=frozenset({"status"}),
))

register_action_texts({
    "requirement.registered": Sentence(_("registered a %(type)s requirement of %(customer)s"),
                                       {"type": "RequirementType"}),
    "requirement.linked": Sentence(_("linked the requirement to %(target)s (%(kind)s)"), {"kind": "LinkKind"}),
    "requirement.analysed": _("analysed the requirement: importance %(importance)s, urgency %(urgency)s, "
                              "class %(priority)s"),
    "requirement.reviewed": Sentence(_("recorded the review of %(department)s: %(verdict)s"),
                                     {"department": "Department", "verdict": "FeasibilityVerdict"}),
    "requirement.decided": Sentence(_("decided: %(decision)s"), {"decision": "Meaning"}),
    "requirement.tracked": Sentence(_("reported progress: %(status)s"), {"status": "RequirementStatus"}),
    "requirement.answered": Sentence(_("evaluated the requirement (%(fulfilment)s) and answered the customer"),
                                     {"fulfilment": "Fulfilment"}),
    "requirement.priority_matrix_changed": _("changed the requirement priority matrix"),
})
register_version_reasons({
    "requirement registered": _("requirement registered"),
    "requirement analysed": _("requirement analysed"),
    "reviews complete": _("all reviews in"),
    "^(?P<department>[a-z_]+) review$": Sentence(_("%(department)s review"), {"department": "Department"}),
    "approved": Sentence(_("approved")),
    "rejected": Sentence(_("rejected")),
    "^progress: (?P<status>[a-z_]+)$": Sentence(_("progress: %(status)s"), {"status": "RequirementStatus"}),
    "evaluated and answered": _("evaluated and answered"),
})


def register_statuses():
    register_status_labels(RequirementStatus)


def _review(r):
    return {"department": r.department, "department_zh": DEPARTMENT_NAMES_ZH[r.department],
            "department_en": english(Department(r.department).label), "verdict": r.verdict,
            "comment": r.comment, "reviewer": r.reviewer.printed_name, "reviewed_at": r.reviewed_at}


def requirement_snapshot(req, *, extra_review=None):
    """The version's data; `extra_review` is a not-yet-saved RequirementReview that the
    reviewer's signature covers (it needs the version, the version needs the row)."""
    reviews = [_review(r) for r in req.reviews.select_related("reviewer")]
    if extra_review is not None:
        reviews = sorted(reviews + [_review(extra_review)], key=lambda r: r["department"])
    score = req.importance * req.urgency if req.importance and req.urgency else None
    return {
        "record_number": req.record.number,
        "customer_code": req.customer.code if req.customer_id else "",
        "customer_name": req.customer_name, "potential_customer": req.potential_customer,
        "channel": req.channel, "requirement_type": req.requirement_type,
        "product_code": req.product.code if req.product_id else "", "product": req.product_text,
        "received_on": req.received_on, "customer_words": req.customer_words, "meaning": req.meaning,
        "duplicate_of": req.duplicate_of.record.number if req.duplicate_of_id else "",
        "importance": req.importance, "urgency": req.urgency, "score": score, "priority": req.priority,
        "kano_category": req.kano_category, "feasibility": req.feasibility,
        "changes_product_or_process": req.changes_product_or_process,
        "review_departments": list(req.review_departments),
        "links": [{"kind": link.kind, "number": link.target.record.number, "note": link.note}
                  for link in req.links.select_related("target__record")],
        "reviews": reviews,
        "status": req.status, "decision": req.decision, "decision_reason": req.decision_reason,
        "approver": req.approved_by.printed_name if req.approved_by_id else "", "decided_at": req.decided_at,
        "customer_acceptance": req.customer_acceptance,
        "owner": req.owner.printed_name if req.owner_id else "", "due_date": req.due_date, "progress": req.progress,
        "fulfilment": req.fulfilment, "evidence": req.evidence, "answer_date": req.answer_date,
        "answer_channel": req.answer_channel, "answer_content": req.answer_content,
    }


def snapshot_for_record(record):
    if record.record_type == CUSTOMER_REQUIREMENT.code:
        return requirement_snapshot(record.customer_requirement)
    return None

