"""What other procedures may ask of P3 (the declared entry points; tests/test_architecture.py
allows no other import of this package from another procedure): raise a corrective action,
and the signal sent when one closes (procedures.capa.signals)."""
from .models import CapaSource


def raise_capa_from_complaint(complaint_case, *, is_complaint, actor, source=None):
    """P2.6 → P3 (CA-1): start a corrective action for a justified complaint (True) or return
    (False), linked both ways; returns the CAPA report's record number (the complaint stores it).
    An internal inspection's case names its own `source` ("supplier" for an IQC rejection,
    "internal_nc" for IPQC / OQC)."""
    from .flows import CapaFlow  # the flow loads P3's steps and actions: only when a CAPA is raised

    source = CapaSource(source) if source else (CapaSource.COMPLAINT if is_complaint else CapaSource.RETURN)
    capa = CapaFlow.start_raised.run(complaint_case=complaint_case, actor=actor, source=source)
    return capa.record.number


def raise_capa(source_record, *, source, actor, problem, customer_name="", product_text=""):
    """Another procedure's record (e.g. a P5 customer requirement) raises a corrective action,
    linked both ways: the CAPA names `source_record` as its source reference, the caller stores
    the CAPA's record. CAPA's own rule applies: Quality raises a corrective action. Returns the
    CAPA report's core.Record."""
    from .flows import CapaFlow  # the flow loads P3's steps and actions: only when a CAPA is raised

    capa = CapaFlow.start_from_record.run(source_record=source_record, source=source, actor=actor, data={
        "title": problem[:200], "customer_name": customer_name, "product_text": product_text})
    return capa.record


def management_review_figures(period_start, period_end, today):
    """CA-7: corrective-action figures for the management-review input pack. Raised, closed and
    effectiveness checks verified count what happened in the period; open (not closed) and overdue
    actions (CapaAction.objects.overdue, the CA-5 rule) are as of `today`, the day it is compiled."""
    from django.db.models import Count  # noqa: PLC0415 — only this entry point needs it

    from .models import CapaAction, CapaCase, CapaStatus, EffectivenessCheck  # noqa: PLC0415

    open_cases = CapaCase.objects.exclude(status=CapaStatus.CLOSED)
    checks = EffectivenessCheck.objects.filter(verified_at__date__gte=period_start, verified_at__date__lte=period_end)
    by_source = dict(open_cases.order_by().values_list("source").annotate(n=Count("pk")))
    overdue = CapaAction.objects.overdue(today).exclude(case__status=CapaStatus.CLOSED) \
        .select_related("case__record", "owner").order_by("due_date", "pk")
    return {
        "raised": CapaCase.objects.filter(raised_at__date__gte=period_start, raised_at__date__lte=period_end).count(),
        "closed": CapaCase.objects.filter(closed_at__date__gte=period_start, closed_at__date__lte=period_end).count(),
        "open": open_cases.count(),
        "open_by_source": [{"source": code, "label": CapaSource.bilingual_of(code), "count": by_source[code]}
                           for code in CapaSource.values if code in by_source],
        "overdue_actions": overdue.count(),
        "overdue": [{"number": a.case.record.number, "action": a.description, "owner": a.owner.printed_name,
                     "due_date": a.due_date} for a in overdue[:30]],
        "checks_effective": checks.filter(effective=True).count(),
        "checks_not_effective": checks.filter(effective=False).count(),
        "audit_findings_raised": CapaCase.objects.filter(
            source=CapaSource.AUDIT_FINDING, raised_at__date__gte=period_start,
            raised_at__date__lte=period_end).count(),
    }
