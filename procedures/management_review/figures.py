"""The figures of the management-review input pack (ISO 9001 9.3.2, CA-7), one function per
section, each read from the database when the pack is compiled. Another procedure's figures come
through its entry.py (the import contract: procedures reach each other only there), each a direct
query there; what the pack itself holds (the previous review's actions) is queried here.

Flow figures (received, raised, closed, verified) count what happened inside the period; status
figures (open, overdue, unacknowledged) are as of `today`, the day the pack is compiled."""
from core import registry
from forms.charts import bar_chart_svg, trend_svg
from procedures.capa.entry import management_review_figures as capa_figures
from procedures.complaints.entry import management_review_figures as complaint_figures
from procedures.documents.entry import management_review_figures as document_figures
from procedures.requirements.entry import (
    management_review_figures as requirement_figures,
)

from .models import ManagementReview, ReviewActionStatus, is_overdue


def satisfaction(period_start, period_end):
    """9.3.2 c) 1: customer satisfaction and feedback — the satisfaction surveys' index and trend and
    the follow-up satisfaction of closed complaints, from the satisfaction procedure when it is
    installed; otherwise none held."""
    try:
        from procedures.satisfaction.entry import period_summary  # noqa: PLC0415 — optional procedure
    except ImportError:
        return {"available": False, "summary": None}
    summary = period_summary(period_start, period_end)
    held = bool(summary and (summary.get("surveys") or (summary.get("follow_up") or {}).get("count")))
    return {"available": held, "summary": summary or None}


def complaints(period_start, period_end):
    """9.3.2 c) 1 / src 6.6.10: the complaints and returns received in the period."""
    return complaint_figures(period_start, period_end)


def requirements(period_start, period_end, today):
    """Customer requirement status (P5): the progress report's figures of the period."""
    return requirement_figures(period_start, period_end, today)


def corrective_actions(period_start, period_end, today):
    """9.3.2 c) 4: nonconformities and corrective actions — open, overdue, effectiveness results."""
    return capa_figures(period_start, period_end, today)


def documents(today):
    """Document control: overdue periodic reviews and unacknowledged revisions."""
    return document_figures(today)


def audits(capa):
    """9.3.2 c) 6: audit results the registry holds. No procedure keeps audit records yet: the pack
    says so, and counts the corrective actions raised from audit findings in the period."""
    types = [{"code": t.code, "title": t.title} for t in registry.all_types() if "audit" in t.code]
    return {"record_types": types, "held": bool(types), "findings_raised": capa["audit_findings_raised"]}


def previous_actions(previous, today):
    """9.3.2 a): the actions decided by the previous review, with their status as of `today`."""
    if previous is None:
        return {"review": None, "actions": [], "open": 0, "done": 0, "overdue": 0}
    rows = [{"position": a.position, "description": a.description, "owner": a.owner.printed_name,
             "due_date": a.due_date, "status": a.status, "status_label": ReviewActionStatus.bilingual_of(a.status),
             "overdue": is_overdue(a.status, a.due_date, today), "note": a.note}
            for a in previous.actions.select_related("owner").order_by("position", "pk")]
    return {"review": previous.record.number, "period": [previous.period_start, previous.period_end],
            "conclusions": previous.conclusions, "actions": rows,
            "open": sum(r["status"] == ReviewActionStatus.OPEN for r in rows),
            "done": sum(r["status"] == ReviewActionStatus.DONE for r in rows),
            "overdue": sum(r["overdue"] for r in rows)}


def previous_review(before=None):
    """The latest pack whose decisions are recorded (the one before `before`, when given)."""
    reviews = ManagementReview.objects.filter(decided_at__isnull=False).select_related("record")
    if before is not None and before.pk:
        reviews = reviews.exclude(pk=before.pk)
    return reviews.order_by("-decided_at", "-pk").first()


def charts(sections):
    """The pack's charts (matplotlib SVG, forms.charts), drawn from the frozen figures."""
    c, capa = sections["complaints"], sections["capa"]
    trend = (sections["satisfaction"]["summary"] or {}).get("trend") or []
    return {
        "satisfaction_trend": trend_svg([str(p["number"]) for p in trend], {"满意度指数 Satisfaction index": [
            p["index"] for p in trend]}, title="满意度趋势 Satisfaction trend", kind="lines") if trend else "",
        "complaints_by_kind": bar_chart_svg([(r["label"], r["count"]) for r in c["by_kind"]],
                                            title="按类别 By kind", x_label="次数 Count"),
        "complaints_by_defect": bar_chart_svg([(r["label"], r["count"]) for r in c["by_defect"]],
                                              title="按原因 By cause", x_label="次数 Count"),
        "capa_status": bar_chart_svg([("本期提出 Raised", capa["raised"]), ("本期关闭 Closed", capa["closed"]),
                                      ("未关闭 Open", capa["open"]), ("逾期措施 Overdue actions",
                                                                      capa["overdue_actions"]),
                                      ("验证有效 Effective", capa["checks_effective"]),
                                      ("验证无效 Not effective", capa["checks_not_effective"])],
                                     title="纠正预防措施 Corrective actions", x_label="数量 Count"),
    }


def compute(period_start, period_end, *, previous, today):
    """Every section of the pack, then its charts."""
    capa = corrective_actions(period_start, period_end, today)
    sections = {
        "as_of": today,
        "satisfaction": satisfaction(period_start, period_end),
        "complaints": complaints(period_start, period_end),
        "requirements": requirements(period_start, period_end, today),
        "capa": capa,
        "documents": documents(today),
        "audits": audits(capa),
        "previous_actions": previous_actions(previous, today),
    }
    sections["charts"] = charts(sections)
    return sections
