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

from . import house
from .change_text import pdf_change_history
from .labels import FORMATS, LABELS
from .models import RequirementStatus


def _snapshot(record):
    return snapshot_for_record(record)


def _change_history(version):
    return pdf_change_history(version)

CUSTOMER_REQUIREMENT = register(RecordType(
    code="customer_requirement", prefix="CR", title_zh="顾客需求评审表", title_en="Customer Requirement Review Form",
    form_code="QR-MK-005", form_revision="A/0", pdf_template="requirements/pdf/customer_requirement.html",
    snapshot=_snapshot, pdf_context=lambda version: _change_history(version), field_labels=LABELS,
    field_formats=FORMATS, list_keys={"attachments": "sha256", "reviews": "department", "links": "number", "changes": "number", "changes[].fields": "field",
               "changes[].reviews": "department", "raised": "number"}, state_fields=frozenset({"status"}),
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
    "requirement.progress_report_sent": _("sent the customer requirement progress report of %(from)s – %(to)s"),
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
    "^change (?P<number>[0-9]+) requested$": _("change %(number)s requested"),
    "^change (?P<number>[0-9]+): (?P<department>[a-z_]+) review$": Sentence(
        _("change %(number)s: %(department)s review"), {"department": "Department"}),
    "^change (?P<number>[0-9]+): reviews complete$": _("change %(number)s: all reviews in"),
    "^change (?P<number>[0-9]+) approved$": _("change %(number)s approved"),
    "^change (?P<number>[0-9]+) rejected$": _("change %(number)s rejected"),
    "^raised (?P<kind>[a-z_]+) (?P<number>[A-Z]+-[0-9]{4}-[0-9]{4})$": Sentence(
        _("raised %(kind)s %(number)s"), {"kind": "RaisedKind"}),
})
register_action_texts({
    "requirement.change_requested": _("requested change %(change)s of the requirement"),
    "requirement.change_reviewed": Sentence(_("recorded the review of change %(change)s by %(department)s: "
                                              "%(verdict)s"),
                                            {"department": "Department", "verdict": "FeasibilityVerdict"}),
    "requirement.change_decided": Sentence(_("decided change %(change)s: %(decision)s"), {"decision": "Meaning"}),
    "requirement.raised": Sentence(_("raised %(kind)s %(number)s from the requirement"), {"kind": "RaisedKind"}),
})


def register_statuses():
    register_status_labels(RequirementStatus)


def _review(r):
    return {"department": r.department, "department_zh": DEPARTMENT_NAMES_ZH[r.department],
            "department_en": english(Department(r.department).label), "verdict": r.verdict,
            "comment": r.comment, "reviewer": r.reviewer.printed_name, "reviewed_at": r.reviewed_at}


def _change(change, extra_review=None):
    reviews = [_review(r) for r in change.reviews.select_related("reviewer")]
    if extra_review is not None and extra_review.change_id == change.pk:
        reviews = sorted(reviews + [_review(extra_review)], key=lambda r: r["department"])
    return {
        "number": change.number, "status": change.status, "reason": change.reason,
        "fields": [{"field": name, "old": old, "new": new} for name, (old, new) in change.changes.items()],
        "review_departments": list(change.review_departments),
        "requested_by": change.requested_by.printed_name, "requested_at": change.requested_at,
        "reviews": reviews, "decided_by": change.decided_by.printed_name if change.decided_by_id else "",
        "decided_at": change.decided_at, "decision_reason": change.decision_reason,
    }


def requirement_snapshot(req, *, extra_review=None, extra_change_review=None):
    """The version's data; `extra_review` is a not-yet-saved RequirementReview that the
    reviewer's signature covers (it needs the version, the version needs the row);
    `extra_change_review` the same for a change's review (CR-5)."""
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
        "attachments": [{"name": a.original_name, "size": a.size, "sha256": a.sha256} for a in req.attachments.all()],
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
        "changes": [_change(c, extra_change_review) for c in req.changes.select_related("requested_by", "decided_by")],
        "raised": [{"kind": r.kind, "number": r.record.number, "reason": r.reason,
                    "raised_by": r.raised_by.printed_name, "raised_at": r.raised_at}
                   for r in req.raised.select_related("record", "raised_by")],
    }


def snapshot_for_record(record):
    if record.record_type == CUSTOMER_REQUIREMENT.code:
        return requirement_snapshot(record.customer_requirement)
    return None



# --- the KANO study (KANO 调查表, QR-MK-006): procedures.requirements.kano --------------------------------

KANO_LABELS = {
    "record_number": ("记录编号", "Record No."), "title": ("标题", "Title"),
    "product_code": ("产品代码", "Product code"), "product": ("产品/服务", "Product / service"),
    "purpose": ("调查目的", "Purpose"), "status": ("状态", "Status"),
    "respondent_count": ("答卷数", "Respondents"), "closed_at": ("完成时间", "Closed at"),
    "features": ("功能特性", "Features"), "features[]": ("特性 {}", "Feature {}"),
    "features[].position": ("序号", "No."), "features[].name": ("特性", "Feature"),
    "features[].functional_question": ("正向问题（具备时）", "Functional question (if present)"),
    "features[].dysfunctional_question": ("反向问题（不具备时）", "Dysfunctional question (if absent)"),
    "features[].requirement": ("顾客需求", "Customer requirement"),
    "features[].counts": ("各类计数", "Counts"), "features[].counts.A": ("A", "A"), "features[].counts.O": ("O", "O"),
    "features[].counts.M": ("M", "M"), "features[].counts.I": ("I", "I"), "features[].counts.R": ("R", "R"),
    "features[].counts.Q": ("Q", "Q"), "features[].answered": ("作答数", "Answers"),
    "features[].category": ("KANO 分类", "KANO category"), "features[].better": ("Better 系数", "Better"),
    "features[].worse": ("Worse 系数", "Worse"),
    "respondents": ("答卷", "Respondents"), "respondents[]": ("答卷 {}", "Respondent {}"),
    "respondents[].number": ("序号", "No."), "respondents[].name": ("答卷人", "Respondent"),
    "respondents[].customer_code": ("客户代码", "Customer code"), "respondents[].source": ("来源", "Source"),
    "respondents[].entered_by": ("录入人", "Entered by"), "respondents[].answered_at": ("作答时间", "Answered at"),
    "respondents[].answers": ("回答", "Answers"), "respondents[].answers[]": ("{}", "{}"),
    "respondents[].answers[].feature": ("特性", "Feature"),
    "respondents[].answers[].functional": ("正向回答", "Functional answer"),
    "respondents[].answers[].dysfunctional": ("反向回答", "Dysfunctional answer"),
    "respondents[].answers[].category": ("分类", "Category"),
    "links": ("一次性链接", "One-time links"), "links[]": ("链接 {}", "Link {}"), "links[].id": None,
    "links[].label": ("发送给", "Sent to"), "links[].customer_code": ("客户代码", "Customer code"),
    "links[].issued_at": ("发出时间", "Issued at"), "links[].expires_at": ("有效期至", "Expires at"),
    "links[].used_at": ("使用时间", "Used at"), "links[].revoked_at": ("撤回时间", "Withdrawn at"),
}
KANO_FORMATS = {
    "status": "KanoStudyStatus", "features[].category": "KanoCategory", "respondents[].source": "ResponseSource",
    "respondents[].answers[].functional": "KanoAnswer", "respondents[].answers[].dysfunctional": "KanoAnswer",
    "respondents[].answers[].category": "KanoCategory",
}


def _kano_snapshot(record):
    return kano_snapshot(record.kano_study)


def _kano_pdf_context(version):
    from forms.charts import scatter_svg  # noqa: PLC0415 — matplotlib only when a KANO study is printed

    points = scatter_points(version.data.get("features", []))
    return {"scatter": scatter_svg(points, x_label="Worse 系数 (|Worse|)", y_label="Better 系数 (Better)",
                                   x_range=(0, 1), y_range=(0, 1), quadrant_labels=kano_quadrants())
            if points else ""}


def scatter_points(features):
    """The Better–Worse plot's points from a version's features: (label, |Worse|, Better)."""
    return [(f"{f['position']}. {f['name']}", abs(f["worse"]), f["better"]) for f in features if f.get("answered")]


def kano_quadrants():
    """The four quadrants of the Better–|Worse| plot, as printed (both languages)."""
    from .models import KanoCategory  # noqa: PLC0415

    def both(category):
        member = KanoCategory(category)
        return f"{member.zh} {english(member.label)}"

    # (top-left, top-right, bottom-left, bottom-right)
    return (both("A"), both("O"), both("I"), both("M"))


KANO_STUDY = register(RecordType(
    code="kano_study", prefix="KS", title_zh="KANO 调查表", title_en="KANO Study",
    form_code="QR-MK-006", form_revision="A/0", pdf_template="requirements/pdf/kano_study.html",
    snapshot=_kano_snapshot, pdf_context=_kano_pdf_context, field_labels=KANO_LABELS, field_formats=KANO_FORMATS,
    list_keys={"features": "position", "respondents": "number", "respondents[].answers": "feature",
               "links": "id"},
    state_fields=frozenset({"status"}),
))

register_action_texts({
    "kano.created": _("created the KANO study %(title)s"),
    "kano.features_set": _("defined the features of the KANO study (%(count)s)"),
    "kano.opened": _("opened the KANO study for answers"),
    "kano.answers_entered": Sentence(_("recorded the answers of %(respondent)s (%(source)s)"),
                                     {"source": "ResponseSource"}),
    "kano.answers_imported": _("imported %(count)s questionnaires from %(file)s"),
    "kano.link_issued": _("issued a one-time link to %(label)s"),
    "kano.link_revoked": _("withdrew the one-time link of %(label)s"),
    "kano.closed": _("closed the KANO study and signed its result"),
    "requirement.kano_set": Sentence(_("set the KANO category from %(study)s: %(category)s"),
                                     {"category": "KanoCategory"}),
    "link.issued": _("issued a one-time link to %(label)s"),
    "link.used": _("the one-time link of %(label)s was used"),
    "link.revoked": _("withdrew the one-time link of %(label)s"),
})
register_version_reasons({
    "KANO study created": _("KANO study created"),
    "features defined": _("features defined"),
    "opened for answers": _("opened for answers"),
    "^answers: (?P<source>[a-z]+)$": Sentence(_("answers: %(source)s"), {"source": "ResponseSource"}),
    "link issued": _("link issued"),
    "link withdrawn": _("link withdrawn"),
    "KANO study closed": _("KANO study closed"),
    "^KANO category from (?P<study>KS-[0-9]{4}-[0-9]{4})$": _("KANO category from %(study)s"),
})


def _ratio(value):
    return round(float(value), 4)


def kano_snapshot(study):
    """The KANO study's version data: features with the result as it stands (counts, Better,
    Worse; the category once closed), every respondent's answers, the links issued (no token)."""
    from forms.models import OneTimeLink  # noqa: PLC0415

    from . import analysis  # noqa: PLC0415

    features = list(study.features.select_related("requirement__record"))
    respondents = list(study.respondents.select_related("customer", "entered_by").prefetch_related("answers"))
    by_feature = {f.pk: [] for f in features}
    position = {f.pk: f.position for f in features}
    rows = []
    for index, respondent in enumerate(respondents, start=1):
        answers = sorted(respondent.answers.all(), key=lambda a: position.get(a.feature_id, 0))
        for answer in answers:
            by_feature.setdefault(answer.feature_id, []).append((answer.functional, answer.dysfunctional))
        rows.append({
            "number": index, "name": respondent.name,
            "customer_code": respondent.customer.code if respondent.customer_id else "",
            "source": respondent.source,
            "entered_by": respondent.entered_by.printed_name if respondent.entered_by_id else "",
            "answered_at": respondent.answered_at,
            "answers": [{"feature": position.get(a.feature_id), "functional": a.functional,
                         "dysfunctional": a.dysfunctional,
                         "category": analysis.kano_category(a.functional, a.dysfunctional)} for a in answers],
        })
    feature_rows = []
    for feature in features:
        result = analysis.kano_evaluate(by_feature[feature.pk])
        feature_rows.append({
            "position": feature.position, "name": feature.name, "functional_question": feature.functional_question,
            "dysfunctional_question": feature.dysfunctional_question,
            "requirement": feature.requirement.record.number if feature.requirement_id else "",
            "counts": result.counts, "answered": len(by_feature[feature.pk]), "category": feature.category,
            "better": _ratio(result.better), "worse": _ratio(result.worse),
        })
    links = OneTimeLink.objects.filter(purpose="kano_study", object_id=study.pk).select_related("customer")
    return {
        "record_number": study.record.number, "title": study.title,
        "product_code": study.product.code if study.product_id else "", "product": study.product_text,
        "purpose": study.purpose, "status": study.status, "respondent_count": len(respondents),
        "closed_at": study.closed_at, "features": feature_rows, "respondents": rows,
        "links": [{"id": link.pk, "label": link.label, "customer_code": link.customer.code if link.customer_id else "",
                   "issued_at": link.created_at, "expires_at": link.expires_at, "used_at": link.used_at,
                   "revoked_at": link.revoked_at} for link in links.order_by("pk")],
    }


# --- the QFD house of quality (质量屋, QR-EN-001): procedures.requirements.qfd ------------------------------

HOUSE_LABELS = {
    "record_number": ("记录编号", "Record No."), "title": ("标题", "Title"),
    "product_code": ("产品代码", "Product code"), "product": ("产品/服务", "Product / service"),
    "status": ("状态", "Status"),
    "needs": ("顾客需求", "Customer needs"), "needs[]": ("需求 {}", "Need {}"), "needs[].position": ("序号", "No."),
    "needs[].text": ("顾客需求", "Customer need"), "needs[].weight": ("重要度权重", "Weight"),
    "needs[].requirement": ("需求编号", "Requirement"),
    "characteristics": ("技术特性", "Technical characteristics"), "characteristics[]": ("特性 {}", "Characteristic {}"),
    "characteristics[].position": ("序号", "No."), "characteristics[].name": ("技术特性", "Technical characteristic"),
    "characteristics[].unit": ("单位", "Unit"), "characteristics[].direction": ("改进方向", "Direction"),
    "characteristics[].target": ("目标值", "Target"),
    "relationships": ("关系矩阵", "Relationship matrix"), "relationships[]": ("{}", "{}"),
    "relationships[].need": ("需求", "Need"), "relationships[].characteristic": ("技术特性", "Characteristic"),
    "relationships[].strength": ("关系强度", "Strength"),
    "roof": ("相关矩阵（屋顶）", "Correlations (roof)"), "roof[]": ("{}", "{}"),
    "roof[].first": ("特性", "Characteristic"), "roof[].second": ("特性", "Characteristic"),
    "roof[].correlation": ("相关性", "Correlation"),
    "importance": ("技术重要度", "Technical importance"), "importance[]": ("{}", "{}"),
    "importance[].characteristic": ("技术特性", "Characteristic"), "importance[].importance": ("重要度", "Importance"),
    "importance[].relative": ("相对重要度 %", "Relative %"), "importance[].rank": ("排序", "Rank"),
    "approver": ("批准人", "Approver"),
}
HOUSE_FORMATS = {
    "status": "HouseStatus", "characteristics[].direction": "ImprovementDirection",
    "relationships[].strength": "Strength", "roof[].correlation": "Correlation",
}


def _house_snapshot(record):
    return house.house_snapshot(record.house_of_quality)


def _house_pdf_context(version):
    return house.grid(version.data)


HOUSE_OF_QUALITY = register(RecordType(
    code="house_of_quality", prefix="HQ", title_zh="质量屋", title_en="House of Quality (QFD)",
    form_code="QR-EN-001", form_revision="A/0", pdf_template="requirements/pdf/house_of_quality.html",
    snapshot=_house_snapshot, pdf_context=_house_pdf_context, field_labels=HOUSE_LABELS, field_formats=HOUSE_FORMATS,
    list_keys={"needs": "position", "characteristics": "position", "importance": "characteristic"},
    state_fields=frozenset({"status"}),
))

register_action_texts({
    "qfd.created": _("created the house of quality %(title)s"),
    "qfd.matrix_set": _("changed the matrix: %(needs)s needs × %(characteristics)s characteristics"),
    "qfd.approved": _("approved the house of quality"),
    "qfd.reopened": _("reopened the house of quality for a new revision"),
})
register_version_reasons({
    "house of quality created": _("house of quality created"),
    "matrix changed": _("matrix changed"),
    "house of quality approved": _("house of quality approved"),
    "reopened for revision": _("reopened for revision"),
})
