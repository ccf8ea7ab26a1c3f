"""P3's controlled record, the 8D report: the form it is made on, its PDF template, and how
verify_audit rebuilds it from the working tables."""
from django.conf import settings
from django.utils import timezone

from core.registry import RecordType, register, register_status_labels

from .models import CapaCase, CapaSource, CapaStatus, PreventionKind, SixM, is_overdue


def _snapshot(record):
    return snapshot_for_record(record)  # defined below: the registry keeps this function, not its name


def _pdf_context(version):
    """Which actions were overdue on the day of the version (is_overdue, CA-5): the positions by round."""
    asof = timezone.localdate(version.created_at)
    return {"overdue": {a["id"] for r in version.data.get("rounds", []) for a in r.get("actions", [])
                        if is_overdue(a["status"], a["due_date"], asof)}}


CAPA_REPORT = register(RecordType(
    code="capa_report", prefix="CA", title_zh="纠正预防措施报告", title_en="Corrective / Preventive Action Report (8D)",
    form_code="QR-QA-004", form_revision="A/0", pdf_template="capa/pdf/capa_report.html", snapshot=_snapshot,
    pdf_context=_pdf_context,
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


def _load(case):
    return CapaCase.objects.select_related("record", "complaint_case__record", "raised_by", "champion", "leader",
                                           "closed_by").prefetch_related(
        "members", "whys", "causes", "checks__planned_by", "checks__verified_by", "sections__owner",
        "actions__owner", "actions__attachments", "actions__extensions__requested_by",
        "actions__extensions__decided_by", "prevention_items__document",
        "prevention_items__change_revision__document", "prevention_items__change_revision__record",
    ).get(pk=case.pk)
