"""What other procedures may ask of P2 / nonconforming product control (the declared entry points;
tests/test_architecture.py allows no other import of this package from another procedure)."""
from .holds import assert_lot_usable, holding_reports  # noqa: F401 — NC-1: a held lot blocks use and shipment
from .models import ComplaintCase


def closed_case(records, number):
    """The closed complaint / return of record `number` among `records` (the records the user may see),
    or None."""
    from .models import ComplaintStatus  # noqa: PLC0415

    return (ComplaintCase.objects.filter(record__in=records, record__number=number, status=ComplaintStatus.CLOSED)
            .select_related("record", "customer").first())


def closed_cases(records):
    """The closed complaints and returns among `records`, newest first (for the follow-up list)."""
    from .models import ComplaintStatus  # noqa: PLC0415

    return (ComplaintCase.objects.filter(record__in=records, status=ComplaintStatus.CLOSED)
            .select_related("record", "customer").order_by("-closed_at", "-pk"))


def management_review_figures(period_start, period_end):
    """CA-7: the complaint and return figures of a period for the management-review input pack — the
    cases received in the period (received_on) by kind and by defect class (the cause as the customer
    describes it), justified or not, and the complaint and return analyses (P2.7) covering the period."""
    from django.db.models import Count  # noqa: PLC0415 — only this entry point needs them

    from .models import ComplaintAnalysis, ComplaintCase, ComplaintKind, DefectCategory  # noqa: PLC0415

    cases = ComplaintCase.objects.filter(received_on__gte=period_start, received_on__lte=period_end)
    by_kind = dict(cases.order_by().values_list("kind").annotate(n=Count("pk")))
    by_defect = sorted(cases.order_by().values_list("defect_category").annotate(n=Count("pk")),
                       key=lambda row: (-row[1], row[0]))
    analyses = ComplaintAnalysis.objects.filter(period_start__lte=period_end, period_end__gte=period_start) \
        .select_related("record").order_by("period_start", "pk")
    return {
        "cases": cases.count(),
        "by_kind": [{"kind": kind, "label": ComplaintKind.bilingual_of(kind), "count": by_kind.get(kind, 0)}
                    for kind in ComplaintKind.values],
        "by_defect": [{"defect": code, "label": DefectCategory.bilingual_of(code), "count": n} for code, n in by_defect],
        "justified": cases.filter(justified=True).count(),
        "not_justified": cases.filter(justified=False).count(),
        "capa_requested": cases.filter(capa_required=True).count(),
        "analyses": [{"number": a.record.number, "period_start": a.period_start, "period_end": a.period_end,
                      "signed": a.approved_by_id is not None} for a in analyses],
    }


def follow_up_satisfaction(start, end):
    """回访满意度 (issue 17): the follow-up satisfaction Market recorded for the cases closed from `start` to
    `end` (dates, inclusive, company time): ([{"number", "kind", "customer_code", "closed_on", "score",
    "remark"}] oldest first, the scale's top score)."""
    from django.utils import timezone  # noqa: PLC0415

    from .actions import FOLLOW_UP_SCALE  # noqa: PLC0415

    rows = []
    cases = (ComplaintCase.objects.filter(follow_up_score__isnull=False, closed_at__isnull=False)
             .select_related("record", "customer").order_by("closed_at", "pk"))
    for case in cases:
        closed_on = timezone.localdate(case.closed_at)
        if start <= closed_on <= end:
            rows.append({"number": case.record.number, "kind": case.kind, "customer_code": case.customer.code,
                         "closed_on": closed_on, "score": case.follow_up_score, "remark": case.follow_up_remark})
    return rows, FOLLOW_UP_SCALE


def record_follow_up(case, *, actor, data):
    """Market records the customer's follow-up satisfaction of a closed case (actions.record_follow_up)."""
    from .actions import record_follow_up as record  # noqa: PLC0415

    return record(case, actor=actor, data=data)


def may_record_follow_up(user):
    from .actions import may_record_follow_up as may  # noqa: PLC0415

    return may(user)
