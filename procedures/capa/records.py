"""P3's controlled record, the 8D report: the form it is made on, its PDF template, and how
verify_audit rebuilds it from the working tables."""
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.prefetch import read_related
from core.registry import (
    RecordType, Sentence, register, register_action_texts, register_status_labels, register_version_reasons,
)

from .models import ActionStatus, CapaCase, CapaSource, CapaStatus, PreventionKind, Severity, SixM, is_overdue


def _snapshot(record):
    return snapshot_for_record(record)  # defined below: the registry keeps this function, not its name


def _pdf_context(version):
    """Which actions were overdue on the day of the version (is_overdue, CA-5): the positions by round."""
    asof = timezone.localdate(version.created_at)
    return {"overdue": {a["id"] for r in version.data.get("rounds", []) for a in r.get("actions", [])
                        if is_overdue(a["status"], a["due_date"], asof)}}


# --- how the record page and the history API name the fields (the PDF's labels; core.diffs) -----------------

CAPA_LABELS = {
    "record_number": ("报告编号", "Report No."), "title": ("问题", "Problem"), "status": ("状态", "Status"),
    "status_label": None, "round": ("轮次", "Round"), "source": ("来源", "Source"), "source_label": None,
    "source_reference": ("来源编号", "Source ref."), "complaint": ("质量信息反馈单", "Feedback form"),
    "customer": ("客户", "Customer"), "product": ("产品/批号", "Product / lot"),
    "quantity_defective": ("不良数量", "Qty defective"), "severity": ("严重度", "Severity"),
    "raised_by": ("提出人", "Raised by"), "raised_at": ("提出时间", "Raised at"),
    "emergency_response": ("D0 紧急响应", "D0 Emergency response"), "team": ("D1 小组", "D1 Team"),
    "team.champion": ("倡导者", "Champion"), "team.leader": ("组长", "Leader"), "team.members": ("组员", "Members"),
    "description": ("D2 问题描述", "D2 Problem description"), "description.what": ("什么", "What"),
    "description.where": ("哪里", "Where"), "description.when": ("何时", "When"), "description.who": ("谁", "Who"),
    "description.why": ("为何", "Why"), "description.how": ("如何", "How"), "description.how_many": ("多少", "How many"),
    "is_is_not": ("是/不是", "Is / is not"), "is_is_not.is": ("是", "Is"), "is_is_not.is_not": ("不是", "Is not"),
    "containment": ("D3 临时遏制措施", "D3 Containment"),
    "containment_verification": ("遏制验证", "Containment verified"),
    "containment_removed": ("已解除", "Removed (D6)"), "escape_point": ("流出点", "Escape point"),
    "root_cause": ("D4 根本原因", "D4 Root cause"), "similar_elsewhere": ("类似问题", "Similar elsewhere"),
    "earlier_root_causes": ("无效轮次的根本原因", "Root causes of rounds not effective"),
    "earlier_root_causes[]": ("第 {round} 轮", "Round {round}"), "earlier_root_causes[].round": None,
    "earlier_root_causes[].root_cause": ("根本原因", "Root cause"),
    "earlier_root_causes[].escape_point": ("流出点", "Escape point"),
    "rounds": ("", ""), "rounds[]": ("第 {} 轮", "Round {}"),
    "rounds[].whys": ("5-Why 分析", "5-Why chain"), "rounds[].whys[]": ("为什么 {}", "Why {}"),
    "rounds[].whys[].question": ("为什么", "Why"), "rounds[].whys[].answer": ("回答", "Because"),
    "rounds[].fishbone": ("鱼骨图", "Fishbone"), "rounds[].fishbone[].label": None,
    "rounds[].fishbone[].causes": ("", ""), "rounds[].fishbone[].causes[]": ("原因 {}", "Cause {}"),
    "rounds[].fishbone[].causes[].category": None, "rounds[].fishbone[].causes[].cause": ("原因", "Cause"),
    "rounds[].fishbone[].causes[].is_root": ("根本原因", "Root"),
    "rounds[].actions": ("D5/D6 措施", "Actions"), "rounds[].actions[]": ("措施 {position}", "Action {position}"),
    "rounds[].actions[].round": None, "rounds[].actions[].position": None, "rounds[].actions[].owner_username": None,
    "rounds[].actions[].description": ("措施", "Action"), "rounds[].actions[].owner": ("责任人", "Owner"),
    "rounds[].actions[].due_date": ("完成日期", "Due"), "rounds[].actions[].original_due_date": ("原定日期", "Due (first)"),
    "rounds[].actions[].status": ("状态", "Status"), "rounds[].actions[].evidence": ("证据", "Evidence"),
    "rounds[].actions[].done_at": ("完成", "Completed"),
    "rounds[].actions[].attachments": ("", ""),
    "rounds[].actions[].attachments[]": ("附件 {name}", "Attachment {name}"),
    "rounds[].actions[].attachments[].name": ("文件名", "File name"),
    "rounds[].actions[].attachments[].size": ("大小", "Size"),
    "rounds[].actions[].due_date_history": ("延期", "Due date changes"),
    "rounds[].actions[].due_date_history[]": ("第 {} 次", "Request {}"),
    "rounds[].actions[].due_date_history[].old": ("原日期", "From"),
    "rounds[].actions[].due_date_history[].new": ("新日期", "To"),
    "rounds[].actions[].due_date_history[].reason": ("理由", "Reason"),
    "rounds[].actions[].due_date_history[].requested_by": ("申请人", "Requested by"),
    "rounds[].actions[].due_date_history[].requested_at": ("申请时间", "Requested at"),
    "rounds[].actions[].due_date_history[].status": ("状态", "Status"),
    "rounds[].actions[].due_date_history[].decided_by": ("批准人", "Decided by"),
    "rounds[].actions[].due_date_history[].decided_at": ("批准时间", "Decided at"),
    "rounds[].actions[].due_date_history[].decision_reason": ("批准意见", "Decision reason"),
    "rounds[].effectiveness": ("效果验证", "Effectiveness check"),
    "rounds[].effectiveness.verification_date": ("效果验证日期", "Check date"),
    "rounds[].effectiveness.planned_by": ("计划人", "Planned by"),
    "rounds[].effectiveness.effective": ("有效", "Effective"), "rounds[].effectiveness.result": ("结果", "Result"),
    "rounds[].effectiveness.verified_by": ("验证人", "Verifier"),
    "rounds[].effectiveness.verified_at": ("验证时间", "Verified at"),
    "validation": ("D6 实施与验证", "D6 Implemented and validated"),
    "prevention": ("D7 预防再发生", "D7 Prevent recurrence"), "prevention[]": ("第 {} 项", "Item {}"),
    "prevention[].kind": ("类别", "Kind"), "prevention[].kind_label": None,
    "prevention[].description": ("内容", "What changes"), "prevention[].document": ("文件", "Document"),
    "prevention[].change_request": ("文件更改", "Document change"),
    "sections": ("各步骤责任人与完成日期", "D-step owners and dates"),
    "sections[]": ("{code}（第 {round} 轮）", "{code} (round {round})"), "sections[].title": None,
    "sections[].owner": ("责任人", "Owner"), "sections[].completed_at": ("完成", "Completed"),
    "sections[].summary": ("说明", "Notes"),
    "risks_updated": ("风险已更新?", "Risks updated?"), "risks_note": ("风险说明", "Risk notes"),
    "qms_change_needed": ("需更改体系文件?", "QMS change needed?"), "closing_summary": ("结案说明", "Summary"),
    "closed_by": ("结案人", "Closed by"), "closed_at": ("结案时间", "Closed at"),
}
CAPA_FORMATS = {
    "status": "CapaStatus", "source": "CapaSource", "quantity_defective": "number",
    "severity": lambda code: Severity(code).label if code in Severity.values else code,
    "rounds[].fishbone[].category": "SixM", "rounds[].actions[].due_date": "date",
    "rounds[].actions[].original_due_date": "date",
    "rounds[].actions[].status": lambda code: ActionStatus(code).label if code in ActionStatus.values else code,
    "rounds[].actions[].attachments[].size": "bytes", "rounds[].actions[].due_date_history[].old": "date",
    "rounds[].actions[].due_date_history[].new": "date",
    "rounds[].actions[].due_date_history[].status": "ExtensionStatus",
    "rounds[].effectiveness.verification_date": "date", "prevention[].kind": "PreventionKind",
}
CAPA_KEYS = {
    "earlier_root_causes": "round", "rounds": "round", "rounds[].whys": "position", "rounds[].fishbone": "category",
    "rounds[].actions": "id", "rounds[].actions[].attachments": "sha256", "sections": ("code", "round"),
}

CAPA_REPORT = register(RecordType(
    code="capa_report", prefix="CA", title_zh="纠正预防措施报告", title_en="Corrective / Preventive Action Report (8D)",
    form_code="QR-QA-004", form_revision="A/0", pdf_template="capa/pdf/capa_report.html", snapshot=_snapshot,
    pdf_context=_pdf_context, field_labels=CAPA_LABELS, field_formats=CAPA_FORMATS, list_keys=CAPA_KEYS,
    # where the 8D stands and its actions' progress move on after the plan is signed
    state_fields=frozenset({"status", "round", "rounds[].actions[].status"}),
))


def register_statuses():
    register_status_labels(CapaStatus)


D_STEPS = ["D0", "D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8"]
D_TITLES = {
    "D0": "D0 准备与紧急响应 Plan and emergency response", "D1": "D1 成立小组 Team",
    "D2": "D2 问题描述 Problem description", "D3": "D3 临时遏制措施 Containment",
    "D4": "D4 根本原因与流出点 Root cause and escape point", "D5": "D5 永久纠正措施 Permanent actions",
    "D6": "D6 实施与验证 Implemented and validated", "D7": "D7 预防再发生 Prevent recurrence",
    "D8": "D8 结案与表彰 Closure and recognition",
}
FIVE_W2H = ["what", "where", "when", "who", "why", "how", "how_many"]
def source_label(value):
    return CapaSource.bilingual_of(value)


def status_label(value):
    return CapaStatus.bilingual_of(value)


def six_m_label(value):
    return SixM.bilingual_of(value)


def verification_days():
    return int(settings.QMS.get("CAPA_VERIFICATION_DAYS", 30))


# --- snapshot: the report's data, rebuilt from the working tables ---------------------------------------------------


def _user(user):
    return user.printed_name if user is not None else ""


def _date(value):
    return value.isoformat() if value else None


def _action(a):
    return {
        "id": a.pk, "round": a.round, "position": a.position, "description": a.description,
        "owner": _user(a.owner), "owner_username": a.owner.username, "due_date": _date(a.due_date),
        "original_due_date": _date(a.original_due_date), "status": a.status, "evidence": a.evidence,
        "done_at": a.done_at,
        "attachments": [{"name": f.original_name, "size": f.size, "sha256": f.sha256} for f in a.attachments.all()],
        "due_date_history": [{
            "old": _date(e.old_due_date), "new": _date(e.new_due_date), "reason": e.reason,
            "requested_by": _user(e.requested_by), "requested_at": e.requested_at, "status": e.status,
            "decided_by": _user(e.decided_by), "decided_at": e.decided_at, "decision_reason": e.decision_reason,
        } for e in a.extensions.all()],
    }


def fishbone_by_category(causes):
    """{category: [cause, …]} in the 6M order (人机料法环测), every category present."""
    grouped = {c: [] for c in SixM.values}
    for cause in causes:
        grouped[cause["category"]].append(cause)
    return [{"category": c, "label": six_m_label(c), "causes": grouped[c]} for c in SixM.values]


def _round(case, number):
    whys = [{"position": w.position, "question": w.question, "answer": w.answer}
            for w in case.whys.all() if w.round == number]
    causes = [{"category": c.category, "cause": c.cause, "is_root": c.is_root}
              for c in case.causes.all() if c.round == number]
    check = next((c for c in case.checks.all() if c.round == number), None)
    return {
        "round": number, "whys": whys, "fishbone": fishbone_by_category(causes),
        "actions": [_action(a) for a in case.actions.all() if a.round == number],
        "effectiveness": None if check is None else {
            "verification_date": _date(check.verification_date), "planned_by": _user(check.planned_by),
            "effective": check.effective, "result": check.result, "verified_by": _user(check.verified_by),
            "verified_at": check.verified_at},
    }


def snapshot(case):
    """The CAPA report's data (one JSON per version; rebuilt identically by verify_audit)."""
    analysis = case.analysis_history or {}
    return {
        "record_number": case.record.number, "status": case.status, "status_label": status_label(case.status),
        "round": case.round, "source": case.source, "source_label": source_label(case.source),
        "source_reference": case.source_reference,
        "complaint": case.complaint_case.record.number if case.complaint_case_id else None,
        "title": case.title, "customer": case.customer_name, "product": case.product_text,
        "quantity_defective": case.quantity_defective, "severity": case.severity,
        "raised_by": _user(case.raised_by), "raised_at": case.raised_at,
        "emergency_response": case.emergency_response,
        "team": {"champion": _user(case.champion), "leader": _user(case.leader),
                 "members": sorted(_user(u) for u in case.members.all())},
        "description": {k: case.description.get(k, "") for k in FIVE_W2H},
        "is_is_not": {"is": case.is_is_not.get("is", ""), "is_not": case.is_is_not.get("is_not", "")},
        "containment": case.containment, "containment_verification": case.containment_verification,
        "containment_removed": case.containment_removed,
        "escape_point": case.escape_point, "root_cause": case.root_cause, "similar_elsewhere": case.similar_elsewhere,
        "earlier_root_causes": analysis.get("root_causes", []),
        "rounds": [_round(case, n) for n in range(1, case.round + 1)],
        "validation": case.validation,
        "prevention": [{"kind": p.kind, "kind_label": PreventionKind.bilingual_of(p.kind), "description": p.description,
                        "document": p.document.number if p.document_id else None,
                        "change_request": (f"{p.change_revision.document.number} {p.change_revision.label} "
                                           f"({p.change_revision.record.number})") if p.change_revision_id else None}
                       for p in case.prevention_items.all()],
        "sections": [{"code": s.code, "title": D_TITLES[s.code], "round": s.round, "owner": _user(s.owner),
                      "completed_at": s.completed_at, "summary": s.summary} for s in case.sections.all()],
        "risks_updated": case.risks_updated, "risks_note": case.risks_note,
        "qms_change_needed": case.qms_change_needed, "closing_summary": case.closing_summary,
        "closed_by": _user(case.closed_by), "closed_at": case.closed_at,
    }


def snapshot_for_record(record):
    return snapshot(_load(record.capa_case))


#: what snapshot() reads besides the case's own row: the case's foreign keys (select_related) …
SNAPSHOT_RELATED = ("record", "complaint_case__record", "raised_by", "champion", "leader", "closed_by")


#: … and its child rows with the rows each names (select_related paths), read in one statement (read_related)
SNAPSHOT_CHILDREN = {
    "members": (), "whys": (), "causes": (), "checks": ("planned_by", "verified_by"), "sections": ("owner",),
    "actions": ("owner",), "actions__attachments": (), "actions__extensions": ("requested_by", "decided_by"),
    "prevention_items": ("document", "change_revision__document", "change_revision__record"),
}


def _load(case):
    return read_related(CapaCase.objects.select_related(*SNAPSHOT_RELATED).get(pk=case.pk), SNAPSHOT_CHILDREN)


def load_children(case):
    """Read snapshot()'s child rows onto `case`, a row just read (with SNAPSHOT_RELATED) in this
    transaction whose changed fields are saved: the same data as _load(case)."""
    return read_related(case, SNAPSHOT_CHILDREN)


# --- what the audit trail says P3 did, and the reasons its versions are stored with (core.diffs) -------------------

register_action_texts({
    "capa.raised": Sentence(_("raised the corrective action (%(source)s %(reference)s)"), {"source": "CapaSource"}),
    "capa.described": _("described the problem and named the team (D0–D2)"),
    "capa.contained": _("recorded the containment (D3)"),
    "capa.root_cause_found": _("recorded the root cause of round %(round)s (D4)"),
    "capa.actions_planned": _("planned the actions of round %(round)s (D5)"),
    "capa.plan_approved": _("approved the action plan of round %(round)s"),
    "capa.plan_rejected": _("sent the action plan of round %(round)s back"),
    "capa.action_done": _("reported action %(position)s done"),
    "capa.extension_requested": Sentence(_("asked to move a due date from %(old)s to %(new)s"),
                                         {"old": "date", "new": "date"}),
    "capa.extension_approved": _("approved a due date extension"),
    "capa.extension_rejected": _("refused a due date extension"),
    "capa.action_overdue_reminded": _("reminded the owner of an overdue action"),
    "capa.validated": Sentence(_("validated the implementation; effectiveness check on %(verification_date)s"),
                               {"verification_date": "date"}),
    "capa.verification_due": _("opened the effectiveness check of round %(round)s"),
    "capa.effectiveness_checked": Sentence(_("checked the effectiveness of round %(round)s: %(effective)s"),
                                           {"effective": "bool"}),
    "capa.reopened": _("reopened the analysis: round %(round)s"),
    "capa.prevention_recorded": _("recorded %(items)s measures to prevent recurrence (D7)"),
    "capa.closed": _("closed the corrective action (D8)"),
})
register_version_reasons({
    "corrective action raised": _("corrective action raised"),
    "D0–D2 described": _("D0–D2 described"),
    "D3 containment": _("D3 containment"),
    "action plan approved": _("action plan approved"),
    "action plan sent back": _("action plan sent back"),
    "effectiveness check due": _("effectiveness check due"),
    "back to D4: not effective": _("not effective: back to D4"),
    "effective: on to D7": _("effective: on to D7"),
    "D7 prevention": _("D7 prevention"),
    "D8 closed": _("D8 closed"),
    r"^D4 root cause \(round (?P<round>[0-9]+)\)$": _("D4 root cause (round %(round)s)"),
    r"^D5 actions planned \(round (?P<round>[0-9]+)\)$": _("D5 actions planned (round %(round)s)"),
    "^action (?P<position>[0-9]+) done$": _("action %(position)s done"),
    "^action (?P<position>[0-9]+): extension requested$": _("action %(position)s: extension requested"),
    "^action (?P<position>[0-9]+): extension (?P<status>[a-z]+)$": Sentence(
        _("action %(position)s: extension %(status)s"), {"status": "ExtensionStatus"}),
    "^D6 validated; effectiveness check on (?P<date>[0-9-]+)$": _("D6 validated; effectiveness check on %(date)s"),
    "^effectiveness check round (?P<round>[0-9]+): effective$": _("effectiveness check round %(round)s: effective"),
    "^effectiveness check round (?P<round>[0-9]+): not effective$": _(
        "effectiveness check round %(round)s: not effective"),
})
